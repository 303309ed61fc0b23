"""The fleet metric: returning systems per day, and the joined / returning chart."""

import datetime as dt

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.fleet import FleetDynamics, month_masks
from tests.helpers import system_id

DAY = dt.date(2026, 3, 2)


def summarize(day: dt.date) -> dict:
    return FleetDynamics().summarize(Day(date=day, persistent_min_age=1))


@pytest.mark.django_db
def test_an_empty_day_has_no_returning_systems():
    assert summarize(DAY) == {"returning": 0}


@pytest.mark.django_db
def test_a_typical_day_counts_the_systems_back_after_a_silence(report_on):
    report_on(DAY - dt.timedelta(days=1), system_id(1))  # yesterday: not returning
    report_on(DAY - dt.timedelta(days=20), system_id(2))  # across February: returning
    report_on(DAY - dt.timedelta(days=30), system_id(3))
    report_on(DAY - dt.timedelta(days=3), system_id(3))  # a recent report: not returning
    for number in (1, 2, 3, 4):  # 4 is new
        report_on(DAY, system_id(number))
    assert summarize(DAY) == {"returning": 1}


def test_the_window_of_days_is_a_bitmask_per_month():
    assert month_masks(dt.date(2026, 2, 27), dt.date(2026, 3, 2)) == {
        dt.date(2026, 2, 1): (1 << 26) | (1 << 27),
        dt.date(2026, 3, 1): 0b11,
    }
    assert month_masks(DAY, DAY - dt.timedelta(days=1)) == {}


def test_the_chart_joins_new_and_returning_and_tolerates_older_summaries():
    (chart,) = FleetDynamics().charts()
    summaries = [
        {"date": "2026-03-01", "new_systems": 4},  # summarized before the metric existed
        {"date": "2026-03-02", "new_systems": 3, "returning": 2},
    ]
    assert chart.series.build(summaries, {}) == {
        "labels": ["2026-03-01", "2026-03-02"],
        "datasets": [
            {"label": "Joined (new systems)", "data": [4, 3]},
            {"label": "Returning systems", "data": [None, 2]},
        ],
    }
