"""Charts that read at a glance on the demo fleet, at 1280 and at 390 pixels: at most 12 series
or bars at first (the rest in one "other", all of them a click away and in the table), a look per
name that no other name of the chart has and that stays the name's on the page, plot areas of a
phone at least 150 pixels tall with nothing drawn over them, tables closed until asked for."""

import re

import pytest

from tests.browser.conftest import DESKTOP, PHONE, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.usefixtures("demo_fleet")]

PAGES = ["/", "/plugins/", "/plugins/core/", "/postgresql/", "/age/", "/deployments/", "/rbac/"]
MAX_SHOWN = 12
OTHER_LOOK = -1

# Per chart: its type, how many series and labels it draws, each series' look (or each label's
# for a chart of one series) and its plot area (Chart.js chartArea).
CHARTS = """() => Array.from(document.querySelectorAll(".canvas-box canvas")).map(c => {
  const chart = Chart.getChart(c);
  const many = chart.data.datasets.length > 1;
  return {
    id: c.id,
    type: chart.config.type,
    series: chart.data.datasets.map(d => d.label),
    labels: chart.data.labels,
    looks: many ? chart.data.datasets.map(d => d.look) : (chart.data.datasets[0].looks || []),
    names: many ? chart.data.datasets.map(d => d.label) : chart.data.labels,
    order: chart.data.datasets.map(d => d.order),
    dashes: chart.data.datasets.map(d => JSON.stringify(d.borderDash || [])),
    data: chart.data.datasets.map(d => d.data),
    area: chart.chartArea.height,
  };
})"""

# For each chart: the boxes of the canvas and of what follows it in its section.
LAYOUT = """() => Array.from(document.querySelectorAll("section.chart")).map(section => {
  const box = section.querySelector(".canvas-box");
  if (!box) return null;
  const after = [];
  for (let next = box.nextElementSibling; next; next = next.nextElementSibling) {
    after.push([next.className || next.tagName, next.getBoundingClientRect().top]);
  }
  const rect = box.getBoundingClientRect();
  return {id: section.querySelector("canvas").id, bottom: rect.bottom, after: after};
}).filter(Boolean)"""


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1280", "390"])
def screen(request, browser, site_server):
    opened = open_tab(browser, site_server, viewport=request.param, device_scale_factor=1)
    yield opened
    opened.page.context.close()


def drawn(tab, path: str) -> list[dict]:
    tab.open(path)
    return tab.page.evaluate(CHARTS)


def counted(chart: dict) -> int:
    return len(chart["series"]) if len(chart["series"]) > 1 else len(chart["labels"])


@pytest.mark.parametrize("path", PAGES)
def test_a_chart_draws_at_most_12_series_or_bars_each_with_a_look_of_its_own(screen, path):
    charts = drawn(screen, path)
    assert charts
    for chart in charts:
        assert counted(chart) <= MAX_SHOWN, chart["id"]
        looks = [look for look in chart["looks"] if look != OTHER_LOOK]
        if chart["type"] != "bar" or len(chart["series"]) > 1:
            assert len(looks) == len(set(looks)), chart["id"]
    assert screen.problems == []


@pytest.mark.parametrize("path", PAGES)
def test_on_a_phone_every_plot_area_is_150_pixels_tall_and_nothing_is_drawn_over_a_chart(
    phone_tab, path
):
    charts = drawn(phone_tab, path)
    for chart in charts:
        assert chart["area"] >= 150, chart["id"]
    for chart in phone_tab.page.evaluate(LAYOUT):
        for name, top in chart["after"]:
            assert top >= chart["bottom"] - 0.5, (chart["id"], name)
    widths = phone_tab.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths == [390, 390]
    # With the charts drawn the tables wait behind "The numbers".
    assert phone_tab.page.locator("details.numbers[open]").count() == 0
    assert phone_tab.problems == []


def test_the_versions_of_core_fold_into_other_and_show_all_at_a_click(screen):
    charts = {chart["id"]: chart for chart in drawn(screen, "/plugins/core/")}
    versions = charts["chart-component-versions"]
    table = screen.page.locator("#chart-component-versions-caption + thead th")
    every = table.count() - 1
    assert every > MAX_SHOWN
    assert len(versions["series"]) == MAX_SHOWN
    assert versions["series"][-1] == f"other ({every - MAX_SHOWN + 1} more)"
    # Kept in version order (newest first), the latest largest.
    kept = versions["series"][:-1]
    assert kept == sorted(kept, key=lambda v: tuple(int(p) for p in v.split(".")), reverse=True)
    xyz = charts["chart-component-xyz"]
    assert xyz["labels"][-1].startswith("other (")
    screen.page.locator("#chart-component-versions").locator("..").locator("..").get_by_role(
        "button", name=f"Show all {every}"
    ).click()
    shown = {c["id"]: c for c in screen.page.evaluate(CHARTS)}["chart-component-versions"]
    assert len(shown["series"]) == every
    assert len(set(shown["looks"])) == every
    assert screen.problems == []


def test_a_name_keeps_its_look_across_the_charts_of_a_page(tab):
    charts = {chart["id"]: chart for chart in drawn(tab, "/postgresql/")}
    majors = charts["chart-postgresql"]
    slices = charts["chart-postgresql-latest"]
    colour = {name: look % 8 for name, look in zip(majors["names"], majors["looks"], strict=True)}
    matched = 0
    for name, look in zip(slices["names"], slices["looks"], strict=True):
        major = name.split(".")[0]
        if major in colour and look != OTHER_LOOK:
            assert look % 8 == colour[major], name
            matched += 1
    assert matched >= 3
    plugins = {chart["id"]: chart for chart in drawn(tab, "/plugins/")}
    bars = plugins["chart-plugins"]
    lines = plugins["chart-plugins-over-time"]
    looks = dict(zip(lines["names"], lines["looks"], strict=True))
    for name, look in zip(bars["names"], bars["looks"], strict=True):
        if name in looks:
            assert look == looks[name], name
    assert tab.problems == []


def test_plugin_adoption_bars_go_by_share_and_over_time_has_counts_and_percentages(tab):
    charts = {chart["id"]: chart for chart in drawn(tab, "/plugins/")}
    shares = charts["chart-plugins"]["data"][0]
    assert shares == sorted(shares, reverse=True)
    assert max(max(v or 0 for v in d) for d in charts["chart-plugins-over-time"]["data"]) > 100
    tab.page.get_by_role("link", name="Percentages").click()
    tab.settle()
    percent = {c["id"]: c for c in tab.page.evaluate(CHARTS)}["chart-plugins-over-time"]
    assert max(max(v or 0 for v in d) for d in percent["data"]) <= 100
    assert tab.problems == []


def test_the_persistent_line_is_drawn_over_all_systems(tab):
    systems = next(c for c in drawn(tab, "/") if c["id"] == "chart-systems")
    assert systems["series"] == ["All systems", "New systems", "Persistent systems"]
    # Chart.js draws a lower order later, over the others; and the dash differs.
    assert systems["order"][2] < systems["order"][0]
    assert systems["dashes"][2] != systems["dashes"][0]
    assert tab.problems == []


def test_weekly_percentages_add_up_to_100_and_a_partial_week_is_marked(tab):
    charts = drawn(tab, "/plugins/core/?mode=percent&granularity=week&range=all")
    versions = next(c for c in charts if c["id"] == "chart-component-versions")
    for week in range(len(versions["labels"])):
        values = [series[week] for series in versions["data"] if series[week] is not None]
        # Each average is rounded to 0.01, and "other" adds up a score of them.
        assert not values or sum(values) == pytest.approx(100, abs=0.3), versions["labels"][week]
    # 2026-03-23 is a Monday; the last week ends on Tuesday 2026-06-30 (the table is closed).
    rows = tab.page.locator("#chart-component-versions-caption + thead + tbody th")
    assert rows.last.text_content() == "2026-06-29 (partial: 2 days)"
    assert tab.problems == []


def test_charts_of_the_latest_day_name_it_and_percentages_have_one_decimal(tab):
    tab.open("/plugins/core/")
    titles = tab.page.locator("section.chart h2").all_inner_texts()
    assert titles[0] == "Versions over time"
    # The charts of the registry come first; the decision sections follow (no latest day).
    assert all(re.search(r" on 2026-06-30$", title) for title in titles[1:3]), titles
    cells = tab.page.locator(
        "#chart-component-newer-caption + thead + tbody td"
    ).all_text_contents()
    assert cells and all(re.fullmatch(r"[0-9]+\.[0-9]%", cell) for cell in cells)


def test_the_charts_of_core_take_less_than_two_screens_of_a_desktop(tab):
    # Versions over time, on the latest day and "this version or newer"; the decision sections
    # (release adoption, releases, support levels, impact, badge) follow them.
    tab.open("/plugins/core/")
    bottom = tab.page.evaluate(
        "(() => { const box = document.getElementById('chart-component-newer')"
        ".closest('section').getBoundingClientRect(); return box.bottom + window.scrollY; })()"
    )
    assert bottom < 3000
