"""Every page on tests/site_data.py: headline numbers, tables, controls, plugins, 404 and 400.

The data set is committed once for the module (the `site_data` fixture); these tests only read.
"""

import json
import re

import pytest

from pulpanalytics import metrics
from pulpanalytics.metrics.base import Chart, LatestChart, Metric
from pulpanalytics.telemetry_pb2 import Telemetry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_data")]

PAGES = {
    "/": ["systems", "plugins"],
    "/plugins/": ["plugins", "plugins-over-time"],
    "/plugins/core/": [
        "component-versions",
        "component-xyz",
        "component-newer",
        "release-adoption",
    ],
    "/deployments/": [
        "online-workers",
        "online-workers-sizes",
        "online-content-apps",
        "online-content-apps-sizes",
    ],
    "/postgresql/": ["postgresql-latest", "postgresql"],
    "/age/": ["age-latest", "age"],
    "/rbac/": [
        "rbac-share",
        "rbac-users",
        "rbac-groups",
        "rbac-domains",
        "rbac-custom-access-policies",
        "rbac-custom-roles",
    ],
    "/upgrades/": ["upgrades"],
    "/fields/": ["fields"],
    "/fleet/": ["joined-returning"],
}


def specs(response) -> list[dict]:
    found = re.search(
        r'<script id="chart-specs" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(found.group(1)) if found else []


def row(label: str, *cells: str) -> str:
    return f'<tr><th scope="row">{label}</th>' + "".join(f"<td>{c}</td>" for c in cells)


@pytest.mark.parametrize(("path", "charts"), PAGES.items())
def test_every_chart_page_lists_its_charts_for_charts_js_with_their_data_urls(client, path, charts):
    response = client.get(path)
    assert response.status_code == 200
    found = specs(response)
    assert [spec["canvas"] for spec in found] == [f"chart-{name}" for name in charts]
    for spec in found:
        if "data" in spec:  # made on the page (release adoption)
            assert spec["data"]["labels"]
            continue
        data = client.get(spec["url"])
        assert data.status_code == 200
        assert data.json()["labels"], spec["url"]


@pytest.mark.parametrize("path", [*PAGES, "/about/", "/plugins/nope/", "/?range=bad"])
def test_pages_hold_no_inline_script_or_style_so_a_strict_csp_holds(client, path):
    page = client.get(path).content.decode()
    for tag in re.findall(r"<script[^>]*>", page):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"<[^>]+\s(on\w+|style)=", page)
    assert "<style" not in page
    assert '<html lang="en">' in page


def test_overview_shows_the_headline_numbers_of_the_latest_day_and_their_change(client):
    response = client.get("/")
    page = response.content.decode()
    assert response.context["day"].isoformat() == "2026-03-01"
    numbers = {
        h.label: (h.value, [c.text if c else None for _, c in h.changes])
        for h in response.context["headlines"]
    }
    assert numbers == {
        "Systems reporting": (5, ["+1 (+25.0%)", "+2 (+66.7%)"]),
        "New systems": (1, ["+1", "+1"]),  # none new 7 or 30 days before: no percentage
        "Persistent systems": (4, ["+0 (+0.0%)", "+1 (+33.3%)"]),
        "Plugins seen": (5, ["+0 (+0.0%)", "+1 (+25.0%)"]),
    }
    assert "On 2026-03-01" in page
    assert '+2 (+66.7%) <span class="since">vs 30 days before</span>' in page


def test_overview_headlines_without_an_earlier_day_show_a_dash(client):
    response = client.get("/", {"end": "2026-01-20"})
    assert response.context["day"].isoformat() == "2026-01-20"
    systems = response.context["headlines"][0]
    assert (systems.value, systems.changes) == (2, ((7, None), (30, None)))
    assert '&mdash; <span class="since">vs 7 days before</span>' in response.content.decode()


def test_overview_tables_hold_the_numbers_without_javascript(client):
    page = client.get("/").content.decode()
    assert row("2026-03-01", "5", "1", "4") in page
    assert row("2026-01-16", "2", "2", "0") in page
    assert page.count('<tr><th scope="row">2026-') == 45  # 90 days, but only 45 summarized
    assert row("core", "100.0%") in page
    assert row("file", "50.0%") in page
    assert (
        'href="/api/v1/charts/systems/?start=2026-01-16&amp;end=2026-03-01&amp;format=csv"' in page
    )


def test_the_range_and_granularity_links_keep_each_other_in_the_query_string(client):
    response = client.get("/", {"range": "30d", "granularity": "week"})
    page = response.content.decode()
    assert '<a href="?range=30d&amp;granularity=week" aria-current="true">Last 30 days</a>' in page
    assert '<a href="?range=1y&amp;granularity=week">Last year</a>' in page
    assert '<a href="?range=30d&amp;granularity=month">Month</a>' in page
    assert '<a href="?range=30d">Day</a>' in page
    assert "Showing 2026-01-31 to 2026-03-01, one point per week" in page
    systems = specs(response)[0]
    assert systems["url"] == (
        "/api/v1/charts/systems/?start=2026-01-31&end=2026-03-01&granularity=week"
    )
    assert systems["x_title"] == "Week (Monday)"
    assert row("2026-02-23", "4.1", "0.1", "4") in page


def test_a_custom_range_keeps_its_dates_and_the_granularity(client):
    response = client.get("/", {"start": "2026-02-01", "end": "2026-02-10", "granularity": "month"})
    page = response.content.decode()
    assert "Showing 2026-02-01 to 2026-02-10, one point per month" in page
    assert '<input type="date" name="start" value="2026-02-01">' in page
    assert '<input type="hidden" name="granularity" value="month">' in page
    assert '<a href="?start=2026-02-01&amp;end=2026-02-10">Day</a>' in page
    assert row("2026-02 (partial: 10 days)", "3", "0", "3") in page


def test_the_plugin_list_holds_every_plugin_of_the_data_with_its_share(client):
    response = client.get("/plugins/")
    page = response.content.decode()
    assert [p["name"] for p in response.context["plugins"]] == [
        "ansible",
        "container",
        "core",
        "file",
        "rpm",
    ]
    assert '<a href="/plugins/core/">core</a>' in page
    assert "100.0% of persistent systems on the latest day" in page


def test_the_plugin_list_of_a_range_holds_only_the_plugins_reported_in_it(client):
    response = client.get("/plugins/", {"end": "2026-01-20"})
    assert [p["name"] for p in response.context["plugins"]] == ["core", "file", "rpm"]


def test_a_plugin_page_shows_versions_over_time_and_the_latest_xyz_versions(client):
    response = client.get("/plugins/core/")
    page = response.content.decode()
    assert "<h1>core</h1>" in page
    assert row("3.46.1", "1") in page
    assert row("3.45.2", "2") in page
    assert row("3.45.2", "100.0%") in page  # on this version or newer
    assert row("2026-03-01", "2", "2", "0") in page  # 3.46, 3.45, 3.44 over time
    assert '<a href="?range=90d&amp;mode=percent">Percentages</a>' in page


def test_a_plugin_page_in_percent_mode_draws_and_tabulates_percentages(client):
    response = client.get("/plugins/core/", {"mode": "percent", "range": "30d"})
    versions = specs(response)[0]
    assert versions["percent"] is True
    assert versions["url"] == (
        "/api/v1/charts/component-versions/?start=2026-01-31&end=2026-03-01&component=core"
        "&mode=percent"
    )
    assert row("2026-03-01", "50.0%", "50.0%", "0.0%") in response.content.decode()


def test_a_plugin_nobody_reported_is_a_404_page(client):
    response = client.get("/plugins/teapot/")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode()


def test_an_unknown_page_is_a_404_page(client):
    response = client.get("/statistics/")
    assert response.status_code == 404
    assert "There is no page at <code>/statistics/</code>" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("/", {"range": "2w"}, "range must be one of 30d, 90d, 1y, all, not &#x27;2w&#x27;"),
        ("/rbac/", {"start": "tomorrow"}, "start must be a date in the form YYYY-MM-DD"),
        ("/plugins/", {"granularity": "hour"}, "granularity must be one of day, week, month"),
        ("/plugins/core/", {"mode": "ratio"}, "mode must be one of count, percent"),
        ("/age/", {"start": "2026-03-01", "end": "2026-01-01"}, "start 2026-03-01 is after end"),
    ],
)
def test_bad_page_parameters_are_a_400_page_with_the_message(client, path, query, message):
    response = client.get(path, query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_pages_answer_head_and_refuse_other_methods(client):
    assert client.head("/deployments/").status_code == 200
    assert client.head("/").status_code == 200
    assert client.put("/deployments/").status_code == 405


def test_the_menu_links_every_page(client):
    page = client.get("/about/").content.decode()
    for path in ["/", "/plugins/", "/deployments/", "/postgresql/", "/age/", "/rbac/", "/about/"]:
        assert f'<a href="{path}"' in page
    assert '<a href="/about/" aria-current="page">About</a>' in page


def test_the_about_page_explains_every_telemetry_field_retention_privacy_and_opting_out(
    client, settings
):
    settings.RAW_RETENTION_DAYS = 21
    page = client.get("/about/").content.decode()

    def names(descriptor) -> list[str]:
        found = []
        for field in descriptor.fields:
            found.append(field.name)
            if field.message_type:
                found += names(field.message_type)
        return found

    for name in names(Telemetry.DESCRIPTOR):
        assert f"<code>{name}</code>" in page, name
    assert "kept for 21 days after that day" in page
    assert "summaries are kept forever" in page
    assert "No IP address" in page
    assert "keyed hash" in page
    assert "<code>ANALYTICS = False</code>" in page


class Weekdays(Metric):
    """On which weekday do systems report? (a metric added after the site was built)"""

    name = "weekdays"
    title = "Weekdays"
    question = "On which weekday do systems report?"

    def summarize(self, day) -> dict:
        return {}

    def charts(self) -> list[Chart]:
        return [
            LatestChart(
                name="weekday-systems",
                title="Systems by weekday",
                description="Systems on the latest day, again.",
                kind="bar",
                build=lambda summary, params: {
                    "labels": [summary["date"]],
                    "datasets": [{"label": "Systems", "data": [summary["systems"]]}],
                },
            )
        ]


def test_a_metric_added_later_gets_a_page_a_menu_entry_and_an_api_path(client, monkeypatch):
    monkeypatch.setattr(metrics, "METRICS", [*metrics.METRICS, Weekdays()])
    page = client.get("/weekdays/", {"range": "30d"})
    assert page.status_code == 200
    assert [s["canvas"] for s in specs(page)] == ["chart-weekday-systems"]
    assert '<a href="/weekdays/" aria-current="page">Weekdays</a>' in page.content.decode()
    assert '<p class="lead">On which weekday do systems report?</p>' in page.content.decode()
    data = client.get("/api/v1/charts/weekday-systems/", {"start": "2026-03-01"}).json()
    assert data == {"labels": ["2026-03-01"], "datasets": [{"label": "Systems", "data": [5]}]}
    assert "/api/v1/charts/weekday-systems/" in client.get("/api/v1/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/plugins/%00/", 404),
        ("/plugins/a%2Fb/", 404),
        ("/plugins/core/extra/", 404),
        ("/api/v1/charts/%00/", 404),
        ("/api/v1/charts/systems/?start=%00", 400),
        ("/rbac/?granularity=%F0%9F%92%A9", 400),
        ("/?start=0001-01-01&end=9999-12-31&granularity=week", 200),
        ("/?start=2026-01-01&start=2026-02-01", 200),
        ("/api/v1/charts/systems/?range=30d&range=all", 200),
        ("/api/v1/charts/component-xyz/?component=" + "x" * 5000, 404),
        ("/plugins/core/?mode=" + "%FF" * 100, 400),
    ],
)
def test_odd_input_is_answered_without_a_server_error(client, url, status):
    assert client.get(url).status_code == status


def test_charts_of_the_latest_day_name_their_day_in_their_title(client):
    page = client.get("/plugins/core/").content.decode()
    assert '<h2 id="chart-component-xyz-title">Versions on 2026-03-01</h2>' in page
    assert "On this version or newer on 2026-03-01</h2>" in page
    assert "Versions over time</h2>" in page


def test_the_plugin_list_shows_adoption_over_time_in_counts_or_percentages(client):
    counts = specs(client.get("/plugins/"))[1]
    assert (counts["percent"], counts["y_title"]) == (False, "Systems")
    response = client.get("/plugins/", {"mode": "percent"})
    shares = specs(response)[1]
    assert shares["percent"] is True
    assert shares["url"].endswith("&mode=percent")
    assert '<a href="?range=90d&amp;mode=percent" aria-current="true">Percentages</a>' in (
        response.content.decode()
    )


def test_downloads_are_named_after_the_chart_and_its_plugin(client):
    page = client.get("/plugins/core/", {"mode": "percent"}).content.decode()
    assert 'download="component-versions-core-percent.csv"' in page
    assert 'download="component-xyz-core.json"' in page
    csv = client.get("/api/v1/charts/component-xyz/", {"component": "core", "format": "csv"})
    assert csv["Content-Disposition"] == 'attachment; filename="component-xyz-core.csv"'


def test_an_unknown_component_is_a_404_with_a_message_in_the_api_as_on_its_page(client):
    answer = client.get("/api/v1/charts/component-versions/", {"component": "nosuch"})
    assert answer.status_code == 404
    assert answer.json() == {"error": "no component 'nosuch' in any summary"}
    page = client.get("/plugins/nosuch/")
    assert page.status_code == 404
    assert "A plugin has a page once an installation has reported it" in page.content.decode()
