"""What one odd report can do: clean names, plausible numbers, bounded days (plausible.py)."""

import csv
import datetime as dt
import importlib
import io
import json

import pytest

from pulpanalytics import prometheus
from pulpanalytics.chart_data import as_csv
from pulpanalytics.models import ChartPoint, Component, DailySummary, Report
from pulpanalytics.plausible import is_server_version_num
from pulpanalytics.summarize import store_summary

pytestmark = pytest.mark.django_db

D0, D1 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
NOW = dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC)
SYSTEM = "11111111-1111-4111-8111-111111111111"


def system_id(number: int) -> str:
    return f"{number:08x}-0000-4000-8000-000000000000"


def text(response) -> tuple[int, str]:
    return response.status_code, response.content.decode()


@pytest.mark.parametrize(
    "name",
    ["a\nb", "core ", "\u202eevil", "javascript:alert(5)", "other", "../../admin/", "Core", "_x"],
)
def test_a_component_name_that_is_no_plugin_label_is_refused_and_nothing_is_stored(
    post_report, telemetry, name
):
    status, message = text(post_report(telemetry(SYSTEM, components={"core": "3.45.2", name: "1"})))
    assert status == 400
    assert message == (
        f"components[1].name {name!r} is not a plugin label "
        "(a lower-case letter, then lower-case letters, digits or '_'; not 'other')"
    )
    assert (Report.objects.count(), Component.objects.count()) == (0, 0)


@pytest.mark.parametrize("version", ["3.49.1\n", "3.45.0 ", "3.45\t.0", "3.45.0\u200b"])
def test_a_version_with_whitespace_or_control_characters_is_refused(
    post_report, telemetry, version
):
    status, message = text(post_report(telemetry(SYSTEM, components={"core": version})))
    assert (status, message) == (
        400,
        f"components[0].version {version!r} has whitespace or control characters",
    )
    assert Report.objects.count() == 0


def test_a_system_id_with_a_trailing_newline_is_not_a_uuid(post_report, telemetry):
    status, message = text(post_report(telemetry(SYSTEM + "\n")))
    assert (status, message) == (400, f"system_id is not a UUID: {SYSTEM + chr(10)!r}")
    assert Report.objects.count() == 0


def test_rare_component_names_are_counted_together_as_other(report_on, settings):
    settings.PLUGIN_MIN_SYSTEMS = 2  # the default; tests run with 1
    plugins = [
        {"core": "3.45.2", "rpm": "3.25.1", "mine": "1.0.0"},
        {"core": "3.45.2", "rpm": "3.25.0", "yours": "2.0.0"},
        {"core": "3.44.0", "theirs": "0.1.0"},
    ]
    for n, components in enumerate(plugins):
        report_on(D0, system_id(n), components=components)
        report_on(D1, system_id(n), components=components)
    summary = store_summary(D1, now=NOW)
    assert summary["components"] == [
        {
            "name": "core",
            "systems": 3,
            "xy": [{"version": "3.45", "count": 2}, {"version": "3.44", "count": 1}],
            "xyz": [{"version": "3.45.2", "count": 2}, {"version": "3.44.0", "count": 1}],
        },
        {
            "name": "rpm",
            "systems": 2,
            "xy": [{"version": "3.25", "count": 2}],
            "xyz": [{"version": "3.25.1", "count": 1}, {"version": "3.25.0", "count": 1}],
        },
        {"name": "other", "systems": 3, "xy": [], "xyz": [], "other": True},
    ]
    # Versions over time: a point per named component and mode, none for "other".
    params = set(
        ChartPoint.objects.filter(date=D1, chart="component-versions").values_list(
            "params", flat=True
        )
    )
    assert params == {
        "component=core",
        "component=core&mode=percent",
        "component=rpm",
        "component=rpm&mode=percent",
    }


def test_an_inflated_day_of_made_up_names_stays_as_small_as_an_honest_one(report_on, settings):
    # 40 known systems each sending 150 names of their own (the attack sent 199 x 100).
    settings.PLUGIN_MIN_SYSTEMS = 2
    for n in range(40):
        made_up = {f"p{n}_{k}": "1.0.0" for k in range(150)}
        report_on(D0, system_id(n), components={"core": "3.45.2"})
        report_on(D1, system_id(n), components={"core": "3.45.2", **made_up})
    summary = store_summary(D1, now=NOW)
    assert [(c["name"], c["systems"]) for c in summary["components"]] == [
        ("core", 40),
        ("other", 6000),
    ]
    assert summary["compatibility"] == [
        {"component": "other", "version": "other", "core": "other", "count": 6000, "other": True}
    ]
    assert len(json.dumps(summary)) < 1500
    # As many points as a day whose systems run core alone.
    honest = D1 + dt.timedelta(days=1)
    for n in range(40):
        report_on(honest, system_id(n), components={"core": "3.45.2"})
    store_summary(honest, now=NOW)
    points = ChartPoint.objects.filter(date=D1).count()
    assert points == ChartPoint.objects.filter(date=honest).count()


def test_plugins_page_answers_for_every_name_a_summary_could_hold_before_the_rules(client):
    # Stored before ingest refused such names; the page must not depend on a URL for them.
    summary = {
        "date": "2026-03-01",
        "systems": 2,
        "new_systems": 0,
        "persistent_systems": 2,
        "age": [],
        "components": [
            {"name": "a\nb", "systems": 1, "xy": [], "xyz": []},
            {"name": "core", "systems": 2, "xy": [], "xyz": []},
        ],
        "postgresql_versions": [],
        "online_workers": {"processes_avg": None, "hosts_avg": None},
        "online_content_apps": {"processes_avg": None, "hosts_avg": None},
        "rbac": [],
    }
    DailySummary.objects.create(date=D0, json=json.dumps(summary), computed_at=NOW)
    migration = importlib.import_module("pulpanalytics.migrations.0005_clean_component_names")
    from django.apps import apps

    migration.clean_summaries(apps, None)
    cleaned = json.loads(DailySummary.objects.get(date=D0).json)
    assert cleaned["components"] == [
        {"name": "core", "systems": 2, "xy": [], "xyz": []},
        {"name": "other", "systems": 1, "xy": [], "xyz": [], "other": True},
    ]
    assert DailySummary.objects.get(date=D0).points_revision == ""
    response = client.get("/plugins/", {"range": "all"})
    assert response.status_code == 200
    assert "a\nb" not in response.content.decode()


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (150004, True),
        (90624, True),
        (160000, True),
        (80400, True),
        (0, False),
        (150104, False),
        (4294967295, False),
        (69999, False),
        (1000000, False),
    ],
)
def test_a_server_version_num_is_what_libpq_can_report(number, valid):
    assert is_server_version_num(number) is valid


def counted(field: str) -> float:
    return prometheus.IMPLAUSIBLE.labels(field=field)._value.get()


def test_implausible_values_are_stored_as_sent_and_counted_for_metrics(post_report, telemetry):
    before = {
        field: counted(field)
        for field in ("online_workers.processes", "postgresql_version", "rbac_stats.users")
    }
    body = telemetry(
        SYSTEM,
        workers=(4294967295, 2),
        postgresql_version=4294967295,
        rbac={"users": 100001, "groups": 100000},
    )
    assert text(post_report(body)) == (200, "stored")
    data = Report.objects.get().data
    assert data["online_workers"] == {"processes": 4294967295, "hosts": 2}
    assert data["postgresql_version"] == 4294967295
    assert {field: counted(field) - before[field] for field in before} == {
        "online_workers.processes": 1,
        "postgresql_version": 1,
        "rbac_stats.users": 1,
    }
    assert b'pulpanalytics_implausible_values_total{field="postgresql_version"}' in (
        prometheus.exposition()
    )


def test_rbac_numbers_above_the_ceiling_count_as_not_sent(report_on):
    for n, users in enumerate([3, 100000, 100001]):
        report_on(D0, system_id(n))
        report_on(D1, system_id(n), rbac={"users": users})
    summary = store_summary(D1, now=NOW)
    assert summary["rbac"] == [
        {"measure": "users", "number": 3, "count": 1},
        {"measure": "users", "number": 100000, "count": 1},
    ]


def test_a_csv_cell_with_a_semicolon_stays_one_cell_for_a_semicolon_reader():
    data = {
        "labels": ["n;=2+5", "=1+1"],
        "datasets": [{"label": "x;@SUM(A1)", "data": [1, None]}],
    }
    body = as_csv(data, first_column="Version")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]
    assert list(csv.reader(io.StringIO(body))) == [
        ["Version", "x;'@SUM(A1)"],
        ["n;'=2+5", "1"],
        ["'=1+1", ""],
    ]


def test_the_about_page_says_what_a_threshold_on_self_reported_data_cannot_stop(client):
    page = " ".join(client.get("/about/").content.decode().split())
    assert "left out of the statistics" in page
    assert "a count above 100,000" in page
    assert "made-up reports can reach any threshold" in page
    assert "at most 1,000 new installations every 60 minutes (IPv6 addresses count per /64" in page
