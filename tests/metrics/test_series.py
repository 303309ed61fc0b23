"""Shared chart helpers: version order, XY, PostgreSQL labels, buckets."""

import pytest

from pulpanalytics.metrics.series import (
    bucket_order,
    buckets,
    lines,
    newest_first,
    postgresql_label,
    postgresql_major,
    power_of_two_bucket,
    xy,
)


def test_newest_first_orders_numerically_and_tolerates_odd_strings():
    versions = ["3.9.0", "3.10.0", "3.45.2", "3.45.10", "main", "", "3.45", "10.0.0"]
    assert newest_first(versions) == [
        "10.0.0",
        "3.45.10",
        "3.45.2",
        "3.45",
        "3.10.0",
        "3.9.0",
        "main",
        "",
    ]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("3.45.2", "3.45"),
        ("3.45", "3.45"),
        ("3", "3"),
        ("main", "main"),
        ("", ""),
        ("1.2.3.4", "1.2"),
        ("3.45.0.dev", "3.45"),
    ],
)
def test_xy_is_the_first_two_parts(version, expected):
    assert xy(version) == expected


@pytest.mark.parametrize(
    ("number", "label", "major"),
    [
        (150004, "15.4", "15"),
        (90624, "9.6.24", "9.6"),
        (100000, "10.0", "10"),
        (170000, "17.0", "17"),
        (0, "unknown", "unknown"),
        (90500, "9.5.0", "9.5"),
    ],
)
def test_postgresql_versions_read_as_people_write_them(number, label, major):
    assert postgresql_label(number) == label
    assert postgresql_major(number) == major


@pytest.mark.parametrize(
    ("number", "bucket"),
    [
        (0, (0, "0")),
        (1, (1, "1")),
        (2, (2, "2\u20133")),
        (3, (2, "2\u20133")),
        (4, (3, "4\u20137")),
        (1023, (10, "512\u20131023")),
        (1024, (11, "1024\u20132047")),
        (4294967295, (32, "2147483648\u20134294967295")),
    ],
)
def test_power_of_two_buckets(number, bucket):
    assert power_of_two_bucket(number) == bucket


def test_bucket_series_stacks_counts_per_bucket_and_fills_zeros():
    summaries = [
        {"date": "2026-03-01", "n": [(0, 2), (5, 1), (6, 3), (None, 7)]},
        {"date": "2026-03-02", "n": [(1, 4), (1100, 1)]},
    ]
    series = buckets(lambda s: s["n"], lambda name: f"{name} days")
    assert series.point(summaries[0], {}) == {"0": 2, "4\u20137": 4, "other": 7}
    assert series.build(summaries, {}) == {
        "labels": ["2026-03-01", "2026-03-02"],
        "datasets": [
            {"label": "0 days", "data": [2, 0]},
            {"label": "1 days", "data": [0, 4]},
            {"label": "4\u20137 days", "data": [4, 0]},
            {"label": "1024\u20132047 days", "data": [0, 1]},
            {"label": "other", "data": [7, 0]},
        ],
    }


def test_buckets_sort_by_their_numbers_with_other_last():
    names = ["other", "1024\u20132047", "2\u20133", "0", "128\u2013255", "1"]
    assert bucket_order(names) == ["0", "1", "2\u20133", "128\u2013255", "1024\u20132047", "other"]


def test_lines_keep_their_datasets_and_order_even_without_days():
    series = lines(("All", lambda s: s["a"]), ("Half", lambda s: s.get("h")))
    assert series.build([], {}) == {
        "labels": [],
        "datasets": [{"label": "All", "data": []}, {"label": "Half", "data": []}],
    }
    assert series.build([{"date": "2026-03-01", "a": 3}], {})["datasets"] == [
        {"label": "All", "data": [3]},
        {"label": "Half", "data": [None]},
    ]
