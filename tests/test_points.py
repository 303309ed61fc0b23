"""Chart points: stored with each summary, read by over-time charts, remade when stale.

On tests/site_data.py (45 days summarized by `manage.py summarize`): whatever the points say,
an over-time chart must be exactly what its summaries give.
"""

import datetime as dt
import json

import pytest
from django.db import connection

from pulpanalytics import points
from pulpanalytics.chart_data import WindowSummaries, build_chart
from pulpanalytics.chart_query import Window
from pulpanalytics.metrics import charts
from pulpanalytics.metrics.base import OverTimeChart
from pulpanalytics.models import ChartPoint, DailySummary
from tests.site_data import DAYS, FIRST_DAY, LATEST_DAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_data")]

# Every over-time chart, and the component charts with a component on every day (core), on the
# last 15 days only (ansible), on none (nope), in percent, and with the default mode spelt out.
OVER_TIME = [name for name, chart in charts().items() if isinstance(chart, OverTimeChart)]
CASES = [(name, {}) for name in OVER_TIME if not charts()[name].required]
CASES += [
    ("component-versions", {"component": "core"}),
    ("component-versions", {"component": "core", "mode": "percent"}),
    ("component-versions", {"component": "core", "mode": "count"}),
    ("component-versions", {"component": "ansible"}),
    ("component-versions", {"component": "nope"}),
]


def everything() -> WindowSummaries:
    return WindowSummaries(Window(None, None, "all"))


def test_summarize_stores_a_point_per_day_for_every_chart_and_component():
    assert not points.stale().exists()
    per_day = ChartPoint.objects.filter(date=LATEST_DAY)
    names = sorted({point.chart for point in per_day})
    # Upgrade paths have a point only for a component some system changed the version of.
    assert set(OVER_TIME) - set(names) <= {"upgrade-paths"} and set(names) <= set(OVER_TIME)
    # On the latest day persistent systems run 5 components (E's core is new): each in two modes.
    versions = sorted(per_day.filter(chart="component-versions").values_list("params", flat=True))
    assert len(versions) == 10
    assert versions[:4] == [
        "component=ansible",
        "component=ansible&mode=percent",
        "component=container",
        "component=container&mode=percent",
    ]
    assert json.loads(per_day.get(chart="systems").point) == {
        "All systems": 5,
        "New systems": 1,
        "Persistent systems": 4,
    }
    # D (ansible) reports from day 30 on and is persistent from day 31: no point of it before.
    assert ChartPoint.objects.filter(params="component=ansible").count() == DAYS - 31


@pytest.mark.parametrize(("name", "params"), CASES)
def test_a_chart_from_its_points_is_the_chart_of_its_summaries(
    name, params, django_assert_num_queries
):
    chart = charts()[name]
    window = everything()
    # The days of the window and the chart's points; not one summary.
    with django_assert_num_queries(2):
        from_points = build_chart(chart, params=params, granularity="day", window=window)
    assert from_points == chart.series.build(window.summaries, params)
    assert len(from_points["labels"]) == DAYS


def test_the_points_of_a_component_absent_on_some_days_are_empty_there():
    data = build_chart(
        charts()["component-versions"],
        params={"component": "ansible"},
        granularity="day",
        window=everything(),
    )
    assert data["datasets"] == [{"label": "0.21", "data": [0] * 31 + [1] * 14}]


@pytest.mark.parametrize(("name", "params"), CASES)
def test_stale_points_are_computed_from_the_summaries_of_the_public(
    name, params, settings, django_assert_num_queries
):
    # Another PUBLIC_MIN_COUNT makes every stored point stale: they hold the unfolded counts.
    settings.PUBLIC_MIN_COUNT = 2
    assert points.stale().count() == DAYS
    chart = charts()[name]
    window = everything()
    # The days, the (unused) stored points, the summaries of the stale days.
    with django_assert_num_queries(3):
        folded = build_chart(chart, params=params, granularity="day", window=window)
    assert folded == chart.series.build(window.summaries, params)


def test_folded_points_show_other_where_stored_points_showed_small_counts(settings):
    chart, window = charts()["postgresql"], everything()
    stored = build_chart(chart, params={}, granularity="day", window=window)
    assert [d["label"] for d in stored["datasets"]] == ["16", "15", "13", "unknown"]
    settings.PUBLIC_MIN_COUNT = 2
    folded = build_chart(chart, params={}, granularity="day", window=window)
    # One system on each version: every count folds into other.
    assert [d["label"] for d in folded["datasets"]] == ["other"]
    assert folded["datasets"][0]["data"][-1] == 4


def test_summarize_remakes_stale_points_in_batches_and_says_so(settings, summarize_at):
    settings.PUBLIC_MIN_COUNT = 2
    after = dt.datetime.combine(LATEST_DAY + dt.timedelta(days=1), dt.time(2), tzinfo=dt.UTC)
    lines = summarize_at(after)
    assert lines == [
        f"Remade the chart points of {FIRST_DAY} to {LATEST_DAY} ({ChartPoint.objects.count():,}"
        " points)",
        "Summarized 0 days; remade the chart points of 45 days; pruned 0 raw systems",
    ]
    assert not points.stale().exists()
    point = ChartPoint.objects.get(chart="postgresql", date=LATEST_DAY)
    assert json.loads(point.point) == {"other": 4}
    # Nothing stale: a second run has nothing to remake.
    assert summarize_at(after) == ["Summarized 0 days; pruned 0 raw systems"]


def test_a_dry_run_counts_the_stale_days_and_remakes_nothing(summarize_at):
    DailySummary.objects.filter(date__gte=LATEST_DAY - dt.timedelta(days=2)).update(
        points_revision="made by older code"
    )
    after = dt.datetime.combine(LATEST_DAY + dt.timedelta(days=1), dt.time(2), tzinfo=dt.UTC)
    assert summarize_at(after, "--dry-run")[-1] == (
        "Dry run: would summarize 0 days; would remake the chart points of 3 days; "
        "would prune 0 raw systems"
    )
    assert points.stale().count() == 3


def test_re_summarizing_a_day_replaces_its_points(summarize_at):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pulpanalytics_chartpoint SET point = '{}' WHERE chart = 'systems'")
    after = dt.datetime.combine(LATEST_DAY + dt.timedelta(days=1), dt.time(2), tzinfo=dt.UTC)
    summarize_at(after, "--date", LATEST_DAY.isoformat())
    systems = ChartPoint.objects.filter(chart="systems")
    assert json.loads(systems.get(date=LATEST_DAY).point)["All systems"] == 5
    assert systems.filter(point="{}").count() == DAYS - 1
    assert ChartPoint.objects.filter(date=LATEST_DAY, chart="component-versions").count() == 10


def test_the_revision_changes_with_public_min_count(settings):
    first = points.revision()
    settings.PUBLIC_MIN_COUNT = 5
    assert points.revision() != first
    assert points.revision().endswith("-5")


def test_a_day_summarized_before_a_metric_existed_has_empty_points_of_its_charts():
    chart = charts()["online-workers"]
    older = {"date": "2026-01-01", "systems": 3, "components": []}  # no online_workers key
    assert chart.series.point_of(older, {}) == {}
    datasets = chart.series.build([older], {})["datasets"]
    assert [d["data"] for d in datasets] == [[None]] * 6
    assert charts()["component-versions"].every_parameter_set({"date": "2026-01-01"}) == []
