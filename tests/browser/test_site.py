"""The site in a real headless Chromium, on tests/site_data.py: every page loads cleanly under a
strict CSP, every chart is drawn with data, the controls change what is charted, and a phone
screen needs no horizontal scrolling."""

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.usefixtures("site_data")]

PAGES = {
    "/": {"chart-systems": 45, "chart-plugins": 5},
    "/plugins/": {"chart-plugins": 5, "chart-plugins-over-time": 45},
    "/plugins/core/": {
        "chart-component-versions": 45,
        "chart-component-xyz": 3,
        "chart-component-newer": 3,
        "chart-release-adoption": 44,  # days since the first day that counts core
    },
    "/deployments/": {
        "chart-online-workers": 45,
        "chart-online-workers-sizes": 3,
        "chart-online-content-apps": 45,
        "chart-online-content-apps-sizes": 2,
    },
    "/postgresql/": {"chart-postgresql-latest": 4, "chart-postgresql": 45},
    "/age/": {"chart-age-latest": 7, "chart-age": 45},
    "/rbac/": {
        "chart-rbac-share": 45,
        "chart-rbac-users": 45,
        "chart-rbac-groups": 45,
        "chart-rbac-domains": 45,
        "chart-rbac-custom-access-policies": 45,
        "chart-rbac-custom-roles": 45,
    },
    "/compatibility/": {},
    "/upgrades/": {"chart-upgrades": 45},
    "/fleet/": {"chart-joined-returning": 45},
    "/about/": {},
}


@pytest.mark.parametrize(("path", "labels"), PAGES.items())
def test_every_page_loads_cleanly_and_draws_every_chart_with_its_data(tab, path, labels):
    tab.open(path)
    charts = tab.charts()
    assert {canvas: chart["labels"] for canvas, chart in charts.items()} == labels
    for canvas, chart in charts.items():
        assert chart["values"] > 0, canvas
        assert chart["painted"], canvas
    if labels:
        assert tab.page.evaluate("document.documentElement.dataset.charts") == "drawn"
    assert tab.problems == []


def test_the_overview_requests_only_its_own_assets_and_the_data_of_its_two_charts(tab):
    tab.open("/")
    origin = urlsplit(tab.base).netloc
    assert {urlsplit(url).netloc for url in tab.requests} == {origin}
    assert sorted(
        urlsplit(url)._replace(scheme="", netloc="").geturl() for url in tab.requests
    ) == [
        "/",
        "/api/v1/charts/plugins/?start=2026-01-16&end=2026-03-01",
        "/api/v1/charts/systems/?start=2026-01-16&end=2026-03-01",
        "/static/pulpanalytics/charts.js",
        "/static/pulpanalytics/favicon.svg",
        "/static/pulpanalytics/site.css",
        "/static/vendor/chart.js/chart.umd.min.js",
        "/static/vendor/chartjs-plugin-annotation/chartjs-plugin-annotation.min.js",
    ]
    assert tab.problems == []


def test_the_range_and_granularity_links_change_the_days_charted(tab):
    tab.open("/")
    assert len(tab.labels("chart-systems")) == 45
    tab.page.get_by_role("link", name="Last 30 days").click()
    tab.settle()
    assert tab.page.url.endswith("/?range=30d")
    labels = tab.labels("chart-systems")
    assert (labels[0], len(labels)) == ("2026-01-31", 30)
    assert tab.page.locator("#chart-systems-caption + thead + tbody tr").count() == 30
    tab.page.get_by_role("link", name="Week").click()
    tab.settle()
    assert tab.page.url.endswith("/?range=30d&granularity=week")
    assert tab.labels("chart-systems") == [
        "2026-01-26",
        "2026-02-02",
        "2026-02-09",
        "2026-02-16",
        "2026-02-23",
    ]
    tab.page.get_by_role("link", name="All", exact=True).click()
    tab.page.get_by_role("link", name="Month").click()
    tab.settle()
    assert tab.page.url.endswith("/?range=all&granularity=month")
    assert tab.labels("chart-systems") == ["2026-01", "2026-02", "2026-03"]
    assert tab.data("chart-systems")[0] == [2.38, 3.5, 5]
    assert tab.problems == []


def test_the_custom_range_form_charts_the_chosen_days(tab):
    tab.open("/deployments/?granularity=week")
    tab.page.get_by_label("From").fill("2026-02-20")
    tab.page.get_by_label("To").fill("2026-02-25")
    tab.page.get_by_role("button", name="Show these days").click()
    tab.settle()
    assert "start=2026-02-20&end=2026-02-25&granularity=week" in tab.page.url
    assert tab.labels("chart-online-workers") == ["2026-02-16", "2026-02-23"]
    assert tab.problems == []


def test_the_percentages_switch_of_a_plugin_page_draws_shares_of_the_plugin_systems(tab):
    tab.open("/plugins/core/?range=30d")
    assert [series[-1] for series in tab.data("chart-component-versions")] == [2, 2, 0]
    tab.page.get_by_role("link", name="Percentages").click()
    tab.settle()
    assert [series[-1] for series in tab.data("chart-component-versions")] == [50, 50, 0]
    y_max = tab.page.evaluate("Chart.getChart('chart-component-versions').scales.y.max")
    assert y_max == 100
    assert tab.problems == []


@pytest.mark.parametrize("path", list(PAGES))
def test_a_390_pixel_wide_phone_screen_needs_no_horizontal_scrolling(phone_tab, path):
    phone_tab.open(path)
    widths = phone_tab.page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert widths == [390, 390, 390]
    charts = phone_tab.charts()
    assert set(charts) == set(PAGES[path])
    assert all(chart["values"] and chart["painted"] for chart in charts.values())
    assert phone_tab.problems == []


def test_without_javascript_a_page_still_shows_its_numbers(browser, site_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_server + "/postgresql/")
    table = page.get_by_role("table", name="PostgreSQL versions on 2026-03-01 (Systems)")
    assert table.get_by_role("row").all_inner_texts()[1:] == [
        "16.2\t1",
        "15.4\t1",
        "13.10\t1",
        "unknown\t1",
    ]
    context.close()


def test_over_time_charts_mark_the_first_day_of_each_core_release(tab):
    # C runs core 3.46 from day 10 and counts from day 11 (2026-01-27); 3.44 and 3.45 are there
    # from the first day, so they are no event.
    tab.open("/plugins/core/")
    marks = tab.page.evaluate(
        """() => Object.values(Chart.getChart("chart-component-versions")
          .options.plugins.annotation.annotations).map(a => [a.value, a.label.content])"""
    )
    assert marks == [["2026-01-27", "core 3.46"]]
    assert tab.problems == []
