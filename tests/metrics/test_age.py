"""Age of installations: by days since first seen."""

import datetime as dt

import pytest

from pulpanalytics.metrics.age import Age
from pulpanalytics.metrics.base import Day
from tests.helpers import system_id

pytestmark = pytest.mark.django_db
START = dt.date(2026, 1, 1)


def test_age_of_an_empty_day_is_an_empty_list():
    assert Age().summarize(Day(START, 1)) == {"age": []}


def test_age_counts_every_system_by_days_since_first_seen(report_on):
    day = START + dt.timedelta(days=40)
    report_on(START, system_id(1))
    report_on(START, system_id(2))
    report_on(START + dt.timedelta(days=38), system_id(3))
    for n in (1, 2, 3, 4):
        report_on(day, system_id(n))
    assert Age().summarize(Day(day, 1)) == {
        "age": [{"days": 0, "count": 1}, {"days": 2, "count": 1}, {"days": 40, "count": 2}],
    }


def test_age_charts_bucket_the_latest_day_and_the_series_alike_by_powers_of_two():
    summaries = [
        {"date": "2026-03-01", "age": [{"days": 0, "count": 4}, {"days": 3, "count": 2}]},
        {"date": "2026-03-02", "age": [{"days": 1, "count": 4}, {"days": 65, "count": 1}]},
    ]
    latest, series = Age().charts()
    assert latest.build(summaries[-1], {}) == {
        # Empty buckets between the youngest and the oldest are kept: a gap shows as a gap.
        "labels": [
            "1 day",
            "2\u20133 days",
            "4\u20137 days",
            "8\u201315 days",
            "16\u201331 days",
            "32\u201363 days",
            "64\u2013127 days",
        ],
        "datasets": [{"label": "Systems", "data": [4, 0, 0, 0, 0, 0, 1]}],
    }
    assert series.series.build(summaries, {}) == {
        "labels": ["2026-03-01", "2026-03-02"],
        "datasets": [
            {"label": "0 days", "data": [4, 0]},
            {"label": "1 day", "data": [0, 4]},
            {"label": "2\u20133 days", "data": [2, 0]},
            {"label": "64\u2013127 days", "data": [0, 1]},
        ],
    }
    assert latest.build(None, {}) == {"labels": [], "datasets": [{"label": "Systems", "data": []}]}
