"""Components: persistent systems by plugin, XY and XYZ version."""

import datetime as dt

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.components import Components
from tests.helpers import system_id

pytestmark = pytest.mark.django_db
D0, D1 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)

SUMMARIES = [
    {
        "date": "2026-03-01",
        "persistent_systems": 4,
        "components": [
            {
                "name": "core",
                "systems": 4,
                "xy": [{"version": "3.45", "count": 3}, {"version": "3.44", "count": 1}],
                "xyz": [{"version": "3.45.2", "count": 3}, {"version": "3.44.0", "count": 1}],
            }
        ],
    },
    {
        "date": "2026-03-02",
        "persistent_systems": 5,
        "components": [
            {
                "name": "core",
                "systems": 5,
                "xy": [{"version": "3.46", "count": 1}, {"version": "3.45", "count": 4}],
                "xyz": [
                    {"version": "3.46.0", "count": 1},
                    {"version": "3.45.3", "count": 1},
                    {"version": "3.45.2", "count": 3},
                ],
            },
            {
                "name": "rpm",
                "systems": 2,
                "xy": [{"version": "3.26", "count": 2}],
                "xyz": [{"version": "3.26.1", "count": 2}],
            },
        ],
    },
]


def charts() -> dict:
    return {chart.name: chart for chart in Components().charts()}


def test_components_of_an_empty_day_are_an_empty_list():
    assert Components().summarize(Day(D1, 1)) == {"components": []}


def test_components_count_persistent_systems_by_version(report_on):
    for n in range(1, 5):
        report_on(D0, system_id(n))
    report_on(D1, system_id(1), components={"core": "3.45.2", "rpm": "3.26.1"})
    report_on(D1, system_id(2), components={"core": "3.45.10", "rpm": "3.26.1"})
    report_on(D1, system_id(3), components={"core": "3.46.0"})
    report_on(D1, system_id(4), components={"core": "3.45.2", "file": "1.12.0"})
    report_on(D1, system_id(5), components={"core": "3.47.0", "ostree": "2.0.0"})  # new: ignored
    assert Components().summarize(Day(D1, 1)) == {
        "components": [
            {
                "name": "core",
                "systems": 4,
                "xy": [{"version": "3.46", "count": 1}, {"version": "3.45", "count": 3}],
                "xyz": [
                    {"version": "3.46.0", "count": 1},
                    {"version": "3.45.10", "count": 1},
                    {"version": "3.45.2", "count": 2},
                ],
            },
            {
                "name": "file",
                "systems": 1,
                "xy": [{"version": "1.12", "count": 1}],
                "xyz": [{"version": "1.12.0", "count": 1}],
            },
            {
                "name": "rpm",
                "systems": 2,
                "xy": [{"version": "3.26", "count": 2}],
                "xyz": [{"version": "3.26.1", "count": 2}],
            },
        ]
    }


def test_plugin_adoption_is_the_share_of_persistent_systems_on_the_latest_day():
    assert charts()["plugins"].build(SUMMARIES[-1], {}) == {
        "labels": ["core", "rpm"],
        "datasets": [{"label": "% of persistent systems", "data": [100.0, 40.0]}],
    }


def test_component_versions_over_time_in_counts_and_percentages():
    chart = charts()["component-versions"]
    assert chart.series.build(SUMMARIES, {"component": "core"}) == {
        "labels": ["2026-03-01", "2026-03-02"],
        "datasets": [
            {"label": "3.46", "data": [0, 1]},
            {"label": "3.45", "data": [3, 4]},
            {"label": "3.44", "data": [1, 0]},
        ],
    }
    assert chart.series.build(SUMMARIES, {"component": "core", "mode": "percent"})["datasets"] == [
        {"label": "3.46", "data": [0, 20.0]},
        {"label": "3.45", "data": [75.0, 80.0]},
        {"label": "3.44", "data": [25.0, 0]},
    ]
    assert chart.series.build(SUMMARIES, {"component": "rpm"})["datasets"] == [
        {"label": "3.26", "data": [0, 2]},
    ]


def test_component_xyz_and_newer_describe_the_latest_day():
    assert charts()["component-xyz"].build(SUMMARIES[-1], {"component": "core"}) == {
        "labels": ["3.46.0", "3.45.3", "3.45.2"],
        "datasets": [{"label": "Systems", "data": [1, 1, 3]}],
    }
    assert charts()["component-newer"].build(SUMMARIES[-1], {"component": "core"}) == {
        "labels": ["3.46.0", "3.45.3", "3.45.2"],
        "datasets": [{"label": "% on this version or newer", "data": [20.0, 40.0, 100.0]}],
    }


def test_component_charts_answer_400_to_bad_parameters(client):
    url = "/api/v1/charts/component-versions/"
    refused = client.get(url, {"component": "core", "mode": "ratio"})
    assert refused.status_code == 400
    assert refused.json() == {"error": "mode must be one of count, percent, not 'ratio'"}
    refused = client.get(url)
    assert refused.status_code == 400
    assert refused.json() == {"error": "chart component-versions needs the parameter 'component'"}


def test_component_charts_of_an_unknown_component_or_no_days_are_empty():
    assert charts()["component-xyz"].build(SUMMARIES[-1], {"component": "nope"})["labels"] == []
    assert charts()["component-versions"].series.build([], {"component": "core"}) == {
        "labels": [],
        "datasets": [],
    }
    assert charts()["plugins"].build(None, {}) == {
        "labels": [],
        "datasets": [{"label": "% of persistent systems", "data": []}],
    }


def test_plugin_adoption_bars_go_by_share_largest_first_other_last():
    summary = {
        "persistent_systems": 10,
        "components": [
            {"name": "ansible", "systems": 2},
            {"name": "core", "systems": 10},
            {"name": "other", "systems": 9, "other": True},
            {"name": "rpm", "systems": 5},
        ],
    }
    assert charts()["plugins"].build(summary, {})["labels"] == ["core", "rpm", "ansible", "other"]


def test_plugin_adoption_over_time_in_counts_and_percentages():
    chart = charts()["plugins-over-time"]
    assert chart.series.build(SUMMARIES, {})["datasets"] == [
        {"label": "core", "data": [4, 5]},
        {"label": "rpm", "data": [0, 2]},
    ]
    assert chart.series.build(SUMMARIES, {"mode": "percent"})["datasets"] == [
        {"label": "core", "data": [100.0, 100.0]},
        {"label": "rpm", "data": [0, 40.0]},
    ]


def test_a_day_without_the_component_is_no_day_in_percentages_but_zero_in_counts():
    # A percent of nothing is no value (a week's average leaves the day out), not 0 %.
    chart = charts()["component-versions"]
    without = {"date": "2026-03-03", "persistent_systems": 3, "components": []}
    days = [*SUMMARIES, without]
    assert chart.series.build(days, {"component": "rpm", "mode": "percent"})["datasets"] == [
        {"label": "3.26", "data": [None, 100.0, None]},
    ]
    assert chart.series.build(days, {"component": "rpm"})["datasets"] == [
        {"label": "3.26", "data": [0, 2, 0]},
    ]
    nobody = {"date": "2026-03-04", "persistent_systems": 0, "components": []}
    adoption = charts()["plugins-over-time"].series.build([nobody], {"mode": "percent"})
    assert adoption == {"labels": ["2026-03-04"], "datasets": []}
