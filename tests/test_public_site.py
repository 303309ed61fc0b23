"""docs/reliability.md H3 on tests/site_data.py: no stored system id in any public page or JSON, and
with PUBLIC_MIN_COUNT=k no count below k shown outside an "other" bucket, through the endpoints.

Totals (systems, new, persistent) and averages are shown as stored (README "Small counts");
every other count of every chart of the registry is checked, so a new metric is too.
"""

import csv
import io
import json
import re

import pytest
from google.protobuf import json_format
from jsonschema import Draft202012Validator

from pulpanalytics import metrics, pages
from pulpanalytics.models import DailySummary, System
from pulpanalytics.public import OTHER
from pulpanalytics.summary_pb2 import Summary
from tests.helpers import record
from tests.site_data import DAYS, SYSTEMS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_data")]

# Charts of totals and of averages: not counts of a kind of installation (README "Small counts").
NOT_FOLDED = {"systems", "joined-returning", "online-workers", "online-content-apps"}
FIRST_DAY, LATEST = "2026-01-16", "2026-03-01"


@pytest.fixture(params=[5, 2], ids=["k=5", "k=2"])
def min_count(request: pytest.FixtureRequest, settings) -> int:
    settings.PUBLIC_MIN_COUNT = request.param
    return request.param


def chart_queries() -> list[tuple[str, dict[str, str]]]:
    """Every chart of the registry with its example parameters, per day (no averaging)."""
    return [(name, dict(chart.examples)) for name, chart in metrics.charts().items()]


def small_counts_in_chart(data: dict, min_count: int) -> list[tuple[str, str, float]]:
    """(dataset, label, value) of every value 0 < value < min_count outside an "other" bucket."""
    return [
        (dataset["label"], label, value)
        for dataset in data["datasets"]
        for label, value in zip(data["labels"], dataset["data"], strict=True)
        if value and value < min_count and OTHER not in (dataset["label"], label)
    ]


def counted_lists(summary: dict) -> list[tuple[str, str, list[dict]]]:
    """(name, count field, entries) of every counted list of a summary (RBAC per measure)."""
    found = [("age", "count", summary["age"]), ("components", "systems", summary["components"])]
    found.append(("postgresql_versions", "count", summary["postgresql_versions"]))
    for measure in sorted({e["measure"] for e in summary["rbac"]}):
        entries = [e for e in summary["rbac"] if e["measure"] == measure]
        found.append((f"rbac {measure}", "count", entries))
    for component in summary["components"]:
        for part in ("xy", "xyz"):
            found.append((f"{component['name']} {part}", "count", component[part]))
    return found


def test_the_summaries_api_folds_every_small_count_and_every_other_sum_is_exact(client, min_count):
    public = client.get("/api/v1/summaries/").json()["summaries"]
    stored = [json.loads(row.json) for row in DailySummary.objects.order_by("date")]
    assert len(public) == len(stored) == DAYS
    smallest_kept = []
    for shown, original in zip(public, stored, strict=True):
        json_format.ParseDict(shown, Summary())  # strictly summary.proto
        for key in ("date", "systems", "new_systems", "persistent_systems", "online_workers"):
            assert shown[key] == original[key]
        before = {name: (field, entries) for name, field, entries in counted_lists(original)}
        for name, field, entries in counted_lists(shown):
            kept = [e for e in entries if not e.get("other")]
            others = [e for e in entries if e.get("other")]
            assert all(e[field] >= min_count for e in kept), (shown["date"], name)
            smallest_kept += [e[field] for e in kept]
            if name not in before:  # the "other" component's (empty) version lists
                assert entries == [] and name.startswith("other "), name
                continue
            field, originals = before[name]
            small = [e for e in originals if 0 < e[field] < min_count]
            # Kept entries are the stored ones at or above k; the other bucket is exactly the rest.
            assert [scalars(e) for e in kept] == [
                scalars(e) for e in originals if e[field] >= min_count
            ], (shown["date"], name)
            assert [e[field] for e in others] == ([sum(e[field] for e in small)] if small else [])
    detail = client.get(f"/api/v1/summaries/{LATEST}/").json()
    assert detail == public[-1]
    record(
        f"H3 k={min_count}",
        f"summaries API, {DAYS} days: smallest count shown outside 'other' "
        f"{min(smallest_kept, default='none (every count folded)')}",
    )


def scalars(entry: dict) -> dict:
    """An entry without its lists (a component's versions are compared as lists of their own)."""
    return {key: value for key, value in entry.items() if not isinstance(value, list)}


def test_the_latest_summary_with_a_minimum_of_two_folds_to_these_numbers(client, settings):
    settings.PUBLIC_MIN_COUNT = 2
    summary = client.get(f"/api/v1/summaries/{LATEST}/").json()
    assert (summary["systems"], summary["new_systems"], summary["persistent_systems"]) == (5, 1, 4)
    assert summary["age"] == [
        {"days": 44, "count": 2},
        {"days": 0, "count": 3, "other": True},
    ]
    assert summary["components"] == [
        {
            "name": "core",
            "systems": 4,
            "xy": [{"version": "3.46", "count": 2}, {"version": "3.45", "count": 2}],
            "xyz": [
                {"version": "3.45.2", "count": 2},
                {"version": "other", "count": 2, "other": True},
            ],
        },
        {
            "name": "file",
            "systems": 2,
            "xy": [{"version": "other", "count": 2, "other": True}],
            "xyz": [{"version": "other", "count": 2, "other": True}],
        },
        # ansible, container and rpm: one persistent system each.
        {"name": "other", "systems": 3, "xy": [], "xyz": [], "other": True},
    ]
    assert summary["postgresql_versions"] == [{"version": 0, "count": 4, "other": True}]
    assert summary["rbac"] == [
        {"measure": measure, "number": 0, "count": 2, "other": True}
        for measure in ("users", "groups", "domains", "custom_access_policies", "custom_roles")
    ]


def test_the_latest_summary_with_a_minimum_of_five_shows_only_totals_and_other(client, settings):
    settings.PUBLIC_MIN_COUNT = 5
    summary = client.get(f"/api/v1/summaries/{LATEST}/").json()
    assert summary["age"] == [{"days": 0, "count": 5, "other": True}]
    assert summary["components"] == [
        {"name": "other", "systems": 9, "xy": [], "xyz": [], "other": True}
    ]
    assert summary["postgresql_versions"] == [{"version": 0, "count": 4, "other": True}]
    assert [e["count"] for e in summary["rbac"]] == [2, 2, 2, 2, 2]


def test_every_chart_of_the_registry_shows_no_small_count_outside_other_in_json_and_csv(
    client, min_count
):
    smallest = []
    for name, params in chart_queries():
        response = client.get(f"/api/v1/charts/{name}/", params)
        if response.status_code == 404:  # its component is folded into "other": no data at all
            assert "component" in params, name
            continue
        data = response.json()
        as_csv = client.get(f"/api/v1/charts/{name}/", {**params, "format": "csv"})
        rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
        assert len(rows) == len(data["labels"]) + 1, name
        if name in NOT_FOLDED or metrics.charts()[name].percent:
            continue
        assert small_counts_in_chart(data, min_count) == [], name
        for label, *cells in rows[1:]:
            for heading, cell in zip(rows[0][1:], cells, strict=True):
                if cell and OTHER not in (label, heading):
                    assert float(cell) >= min_count or float(cell) == 0, (name, label, heading)
        smallest += [
            value
            for dataset in data["datasets"]
            if dataset["label"] != OTHER
            for label, value in zip(data["labels"], dataset["data"], strict=True)
            if value and label != OTHER
        ]
    record(
        f"H3 k={min_count} charts",
        f"{len(chart_queries())} charts (JSON and CSV): smallest count outside 'other' "
        f"{min(smallest, default='none (every count folded)')}",
    )


def test_charts_with_a_minimum_of_five_show_the_other_buckets(client, settings):
    settings.PUBLIC_MIN_COUNT = 5
    assert client.get("/api/v1/charts/age-latest/").json() == {
        "labels": ["other"],
        "datasets": [{"label": "Systems", "data": [5]}],
    }
    # 9 = core 4 + file 2 + rpm, container, ansible 1 each, over 4 persistent systems.
    assert client.get("/api/v1/charts/plugins/").json()["labels"] == ["other"]
    assert client.get("/api/v1/charts/plugins/").json()["datasets"][0]["data"] == [225.0]
    users = client.get("/api/v1/charts/rbac-users/").json()
    assert users["datasets"] == [{"label": "other", "data": [0] + [1] * 10 + [2] * 34}]
    versions = client.get("/api/v1/charts/component-versions/", {"component": "core"})
    assert versions.status_code == 404
    assert client.get("/plugins/core/").status_code == 404
    systems = client.get("/api/v1/charts/systems/").json()["datasets"]
    assert systems[1]["data"][-1] == 1  # new systems: a total, shown as stored


def test_with_a_minimum_of_five_no_folded_version_or_plugin_name_is_in_any_public_json(
    client, settings
):
    settings.PUBLIC_MIN_COUNT = 5
    bodies = [client.get("/api/v1/summaries/").content.decode()]
    for name, params in chart_queries():
        for output in ("json", "csv"):
            query = {**params, "format": output}
            bodies.append(client.get(f"/api/v1/charts/{name}/", query).content.decode())
    text = "\n".join(bodies)
    for secret in ("3.26.1", "3.45.2", "3.46", "0.21.3", "2.20.0", "1.2.3", "1.3.0", "3.47.0"):
        assert secret not in text
    for secret in ("150004", "130010", "160002", "15.4", "13.10", "16.2", '"rpm"', '"ansible"'):
        assert secret not in text
    assert '"name":"other"' in text


def public_paths() -> list[str]:
    """Every public page and API path of the data set, from the registry and the summaries."""
    paths = ["/", "/plugins/", "/about/", "/api/v1/charts/", "/api/v1/openapi.json"]
    paths += [page.url for page in pages.chart_pages()]
    stored = [json.loads(text) for text in DailySummary.objects.values_list("json", flat=True)]
    names = {component["name"] for summary in stored for component in summary["components"]}
    paths += [f"/plugins/{name}/" for name in sorted(names)]
    paths += ["/api/v1/summaries/"] + [
        f"/api/v1/summaries/{day.isoformat()}/"
        for day in DailySummary.objects.values_list("date", flat=True)
    ]
    for name, params in chart_queries():
        query = "&".join(f"{k}={v}" for k, v in params.items())
        paths += [f"/api/v1/charts/{name}/?{query}", f"/api/v1/charts/{name}/?{query}&format=csv"]
        for granularity in ("week", "month"):
            paths.append(f"/api/v1/charts/{name}/?{query}&granularity={granularity}")
    return paths


@pytest.mark.parametrize("public_min_count", [1, 5])
def test_no_stored_system_id_or_its_hash_is_in_any_public_page_or_json(
    client, settings, public_min_count
):
    settings.PUBLIC_MIN_COUNT = public_min_count
    hashes = list(System.objects.values_list("system_hash", flat=True))
    assert len(hashes) == len(SYSTEMS) == 5
    forms = [*SYSTEMS.values(), *(s.upper() for s in SYSTEMS.values())]
    forms += [s.replace("-", "") for s in SYSTEMS.values()] + hashes
    paths = public_paths()
    statuses = set()
    found = []
    for path in paths:
        response = client.get(path)
        statuses.add(response.status_code)
        body = response.content.decode()
        found += [(path, form) for form in forms if form.lower() in body.lower()]
        # Nor any other 64-hex string (a hash) or UUID.
        found += [
            (path, m) for m in re.findall(r"\b[0-9a-f]{64}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-", body)
        ]
    assert found == []
    assert statuses == ({200} if public_min_count == 1 else {200, 404})
    record(
        f"H3 system ids, k={public_min_count}",
        f"{len(paths)} public pages and API answers: stored system ids or hashes found: 0",
    )


def test_every_page_table_shows_no_small_count_outside_other(client, min_count):
    paths = ["/", "/plugins/", *(page.url for page in pages.chart_pages())]
    contexts = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200
        contexts[path] = response.context
        for block in response.context["blocks"]:
            if block.chart.name in NOT_FOLDED or block.percent:
                continue
            assert small_counts_in_chart(block.data, min_count) == [], (path, block.chart.name)
    headlines = {h.label: h.value for h in contexts["/"]["headlines"]}
    assert headlines["Plugins seen"] == (0 if min_count == 5 else 2)


def test_folded_summaries_are_what_the_openapi_document_says(client, min_count):
    document = client.get("/api/v1/openapi.json").json()
    # The document's own $refs (#/components/schemas/...) resolve inside this schema.
    schema = {
        **document["components"]["schemas"]["SummaryList"],
        "components": document["components"],
    }
    validator = Draft202012Validator(schema)
    assert list(validator.iter_errors(client.get("/api/v1/summaries/").json())) == []
    age = document["components"]["schemas"]["Summary"]["properties"]["age"]["items"]
    assert (age["required"], age["properties"]["other"]["const"]) == (["days", "count"], True)


def test_the_about_page_says_what_the_minimum_is_only_when_it_is_set(client, settings):
    # (The paragraph on plugin names says "run by fewer than" whatever PUBLIC_MIN_COUNT is.)
    assert "never counts fewer than" not in client.get("/about/").content.decode()
    settings.PUBLIC_MIN_COUNT = 5
    page = client.get("/about/").content.decode()
    assert "never counts fewer than 5\n      installations" in page
    assert 'fewer than\n5 persistent installations run are counted together as "other"' in (
        client.get("/plugins/").content.decode()
    )


def test_with_the_default_minimum_the_summaries_api_serves_the_stored_bytes(client, settings):
    assert settings.PUBLIC_MIN_COUNT == 1
    rows = list(DailySummary.objects.order_by("date").values_list("json", flat=True))
    assert client.get("/api/v1/summaries/").content.decode() == (
        '{"summaries":[' + ",".join(rows) + "]}"
    )
    assert client.get(f"/api/v1/summaries/{LATEST}/").content.decode() == rows[-1]
    assert '"other"' not in rows[-1]


def test_data_cached_under_one_minimum_is_never_served_under_another(client, settings):
    def answers() -> tuple[dict, dict, str]:
        chart = client.get("/api/v1/charts/age-latest/").json()
        summary = client.get(f"/api/v1/summaries/{LATEST}/")
        listed = client.get("/api/v1/summaries/", {"start": LATEST}).json()["summaries"]
        assert listed == [summary.json()]
        return chart["labels"], summary.json()["age"], summary["ETag"]

    plain = answers()
    assert plain[:2] == (
        [
            "0 days",
            "1 day",
            "2\u20133 days",
            "4\u20137 days",
            "8\u201315 days",
            "16\u201331 days",
            "32\u201363 days",
        ],
        [
            {"days": 0, "count": 1},
            {"days": 14, "count": 1},
            {"days": 34, "count": 1},
            {"days": 44, "count": 2},
        ],
    )
    settings.PUBLIC_MIN_COUNT = 5
    folded = answers()
    assert folded[:2] == (["other"], [{"days": 0, "count": 5, "other": True}])
    assert folded[2] != plain[2]
    settings.PUBLIC_MIN_COUNT = 1
    assert answers() == plain
