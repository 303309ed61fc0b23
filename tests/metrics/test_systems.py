"""Systems per day: all, new, persistent."""

import datetime as dt

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.systems import Systems
from tests.helpers import system_id

pytestmark = pytest.mark.django_db
D0, D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)


def test_systems_of_an_empty_day_are_zero():
    assert Systems().summarize(Day(D1, 1)) == {
        "systems": 0,
        "new_systems": 0,
        "persistent_systems": 0,
    }


def test_systems_counts_new_and_persistent(report_on):
    for n in range(1, 4):
        report_on(D0, system_id(n))
    report_on(D1, system_id(1))
    for n in range(1, 6):
        report_on(D2, system_id(n))
    assert Systems().summarize(Day(D2, 1)) == {
        "systems": 5,
        "new_systems": 2,
        "persistent_systems": 3,
    }
    # With a higher threshold, a system seen only yesterday is neither new nor persistent.
    report_on(D2, system_id(9))
    assert Systems().summarize(Day(D2, 2)) == {
        "systems": 6,
        "new_systems": 3,
        "persistent_systems": 3,
    }


def test_systems_chart_has_three_lines():
    summaries = [
        {"date": "2026-03-01", "systems": 3, "new_systems": 3, "persistent_systems": 0},
        {"date": "2026-03-02", "systems": 5, "new_systems": 2, "persistent_systems": 3},
    ]
    (chart,) = Systems().charts()
    assert chart.name == "systems"
    assert chart.series.build(summaries, {}) == {
        "labels": ["2026-03-01", "2026-03-02"],
        "datasets": [
            {"label": "All systems", "data": [3, 5]},
            {"label": "New systems", "data": [3, 2]},
            {"label": "Persistent systems", "data": [0, 3]},
        ],
    }
