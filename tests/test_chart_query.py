"""Parsing a chart's query string: range presets, custom dates, granularity, format, parameters."""

import datetime as dt

import pytest

from pulpanalytics import metrics
from pulpanalytics.chart_query import (
    QueryError,
    Window,
    chart_params,
    parse_format,
    parse_granularity,
    parse_window,
)

BOUNDS = (dt.date(2025, 1, 10), dt.date(2026, 3, 1))


@pytest.mark.parametrize(
    ("query", "start", "end", "preset"),
    [
        ({"range": "30d"}, dt.date(2026, 1, 31), dt.date(2026, 3, 1), "30d"),
        ({"range": "90d"}, dt.date(2025, 12, 2), dt.date(2026, 3, 1), "90d"),
        ({"range": "1y"}, dt.date(2025, 3, 2), dt.date(2026, 3, 1), "1y"),
        ({"range": "all"}, dt.date(2025, 1, 10), dt.date(2026, 3, 1), "all"),
        ({}, dt.date(2025, 12, 2), dt.date(2026, 3, 1), "90d"),  # the default of the caller
        ({"start": "2026-02-01", "end": ""}, dt.date(2026, 2, 1), None, "custom"),
        ({"range": "", "start": "", "end": "2026-02-01"}, None, dt.date(2026, 2, 1), "custom"),
        (
            {"start": "2020-01-01", "end": "2020-01-01"},
            dt.date(2020, 1, 1),
            dt.date(2020, 1, 1),
            "custom",
        ),
    ],
)
def test_a_window_is_a_preset_counted_back_from_the_latest_day_or_custom_dates(
    query, start, end, preset
):
    assert parse_window(query, bounds=BOUNDS, default="90d") == Window(start, end, preset)


def test_a_preset_never_starts_before_the_first_summarized_day():
    bounds = (dt.date(2026, 2, 20), dt.date(2026, 3, 1))
    window = parse_window({"range": "1y"}, bounds=bounds, default="90d")
    assert window == Window(dt.date(2026, 2, 20), dt.date(2026, 3, 1), "1y")
    assert window.as_params() == {"start": "2026-02-20", "end": "2026-03-01"}


def test_a_preset_of_an_empty_database_is_open_on_both_sides():
    window = parse_window({"range": "30d"}, bounds=None, default="all")
    assert window == Window(None, None, "30d")
    assert window.as_params() == {}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"range": "2w"}, "range must be one of 30d, 90d, 1y, all, not '2w'"),
        ({"start": "01/02/2026"}, "start must be a date in the form YYYY-MM-DD, not '01/02/2026'"),
        ({"end": "2026-02-30"}, "end must be a date in the form YYYY-MM-DD, not '2026-02-30'"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "start 2026-03-02 is after end 2026-03-01"),
        ({"range": "30d", "start": "2026-01-01"}, "give either range or start/end, not both"),
    ],
)
def test_a_bad_window_is_refused_with_a_message(query, message):
    with pytest.raises(QueryError) as refused:
        parse_window(query, bounds=BOUNDS, default="90d")
    assert str(refused.value) == message


def test_granularity_and_format_have_defaults_and_refuse_anything_else():
    assert parse_granularity({}) == "day"
    assert parse_granularity({"granularity": "month"}) == "month"
    assert parse_format({}) == "json"
    assert parse_format({"format": "csv"}) == "csv"
    with pytest.raises(QueryError, match="granularity must be one of day, week, month, not 'y'"):
        parse_granularity({"granularity": "y"})
    with pytest.raises(QueryError, match="format must be one of json, csv, not 'xml'"):
        parse_format({"format": "xml"})


def test_chart_params_keep_the_chart_own_parameters_and_refuse_unknown_or_missing_ones():
    versions = metrics.charts()["component-versions"]
    query = {"component": "core", "mode": "percent", "range": "30d"}
    assert chart_params(versions, query) == {"component": "core", "mode": "percent"}
    with pytest.raises(QueryError) as unknown:
        chart_params(metrics.charts()["systems"], {"component": "core"})
    assert str(unknown.value) == (
        "unknown parameter 'component' for chart systems; it takes range, start, end, "
        "granularity, format"
    )
    with pytest.raises(
        QueryError, match="chart component-versions needs the parameter 'component'"
    ):
        chart_params(versions, {"mode": "count"})
