"""Daily chart data averaged per ISO week (labelled by its Monday) or per month."""

import pytest

from pulpanalytics.resample import period_of, resample

DAILY = {
    "labels": ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02", "2026-03-03"],
    "datasets": [
        {"label": "All systems", "data": [3, 4, 5, 6, 8]},
        {"label": "Hosts (average)", "data": [None, 1.5, None, None, None]},
    ],
}


@pytest.mark.parametrize(
    ("day", "granularity", "period"),
    [
        ("2026-03-01", "week", "2026-02-23"),  # a Sunday belongs to the week of the Monday before
        ("2026-03-02", "week", "2026-03-02"),  # a Monday starts its own week
        ("2026-01-01", "week", "2025-12-29"),  # ISO weeks cross the new year
        ("2026-03-31", "month", "2026-03"),
        ("2026-03-31", "day", "2026-03-31"),
    ],
)
def test_period_of_a_day_is_the_monday_of_its_week_or_its_month(day, granularity, period):
    assert period_of(day, granularity) == period


def test_resample_per_week_averages_the_days_of_each_week_and_ignores_missing_values():
    assert resample(DAILY, "week") == {
        "labels": ["2026-02-23", "2026-03-02"],
        "partial": {"2026-02-23": 3, "2026-03-02": 2},
        "datasets": [
            {"label": "All systems", "data": [4.0, 7.0]},
            {"label": "Hosts (average)", "data": [1.5, None]},
        ],
    }


def test_resample_per_month_rounds_the_average_to_two_decimals():
    data = {
        "labels": ["2026-01-28", "2026-01-29", "2026-01-30", "2026-01-31", "2026-02-01"],
        "datasets": [{"label": "Systems", "data": [2, 2, 2, 3, 3]}],
    }
    assert resample(data, "month") == {
        "labels": ["2026-01", "2026-02"],
        "partial": {"2026-01": 4, "2026-02": 1},
        "datasets": [{"label": "Systems", "data": [2.25, 3.0]}],
    }


def test_resample_per_day_and_of_no_days_changes_nothing():
    assert resample(DAILY, "day") is DAILY
    empty = {"labels": [], "datasets": [{"label": "All systems", "data": []}]}
    assert resample(empty, "month") == empty


def test_resample_refuses_an_unknown_granularity():
    with pytest.raises(ValueError, match="unknown granularity 'year'"):
        resample(DAILY, "year")


def test_a_day_without_a_value_is_no_day_of_the_average_and_whole_periods_are_not_partial():
    # A percent of nothing (None) on 2026-03-03: the week is the mean of its other six days.
    days = [f"2026-03-{day:02}" for day in range(2, 9)]
    data = {"labels": days, "datasets": [{"label": "3.45", "data": [50, None, 50, 50, 50, 50, 50]}]}
    week = resample(data, "week")
    assert week["datasets"][0]["data"] == [50.0]
    assert "partial" not in week
