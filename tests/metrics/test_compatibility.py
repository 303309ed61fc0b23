"""Compatibility: plugin XY x core XY, and PostgreSQL major x core XY, of persistent systems."""

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.compatibility import Compatibility
from tests.helpers import system_id
from tests.metrics.decisions_scenario import D0, D1, D4, store_scenario

pytestmark = pytest.mark.django_db


def charts() -> dict:
    return {chart.name: chart for chart in Compatibility().charts()}


def test_compatibility_of_an_empty_day_is_empty():
    assert Compatibility().summarize(Day(D1, 1)) == {"compatibility": [], "postgresql_core": []}


def test_compatibility_counts_each_plugin_of_systems_that_run_core(report_on):
    store_scenario(report_on)
    summary = Compatibility().summarize(Day(D1, 1))
    # System 4 runs file without core; system 7 is new; core itself is no entry.
    assert summary["compatibility"] == [
        {"component": "deb", "version": "1.0", "core": "3.44", "count": 1},
        {"component": "file", "version": "1.2", "core": "3.45", "count": 1},
    ]
    # 1: 15; 6: 9.6; 2 (0) and 5 (absent): unknown; 4 runs no core; 7 is new.
    assert summary["postgresql_core"] == [
        {"postgresql": "15", "core": "3.45", "count": 1},
        {"postgresql": "9.6", "core": "3.45", "count": 1},
        {"postgresql": "unknown", "core": "3.44", "count": 2},
    ]


def test_a_postgresql_version_that_is_no_server_version_num_is_unknown(report_on):
    store_scenario(report_on)
    assert Compatibility().summarize(Day(D4, 1))["postgresql_core"] == [
        {"postgresql": "unknown", "core": "3.45", "count": 1}
    ]


def test_compatibility_orders_versions_newest_first_and_folds_rare_names(report_on, settings):
    settings.PLUGIN_MIN_SYSTEMS = 2
    versions = [
        ("3.9.0", "3.45.0"),
        ("3.10.1", "3.45.2"),
        ("3.10.0", "3.9.9"),
        ("3.10.0", "3.45.0"),
    ]
    for n, (rpm, core) in enumerate(versions):
        report_on(D0, system_id(n))
        report_on(D1, system_id(n), components={"core": core, "rpm": rpm})
    for n in (10, 11):
        report_on(D0, system_id(n))
        report_on(D1, system_id(n), components={"core": "3.45.0", f"mine{n}": "1.0.0"})
    assert Compatibility().summarize(Day(D1, 1))["compatibility"] == [
        {"component": "rpm", "version": "3.10", "core": "3.45", "count": 2},
        {"component": "rpm", "version": "3.10", "core": "3.9", "count": 1},
        {"component": "rpm", "version": "3.9", "core": "3.45", "count": 1},
        {"component": "other", "version": "other", "core": "other", "count": 2, "other": True},
    ]


def test_compatibility_chart_is_the_plugin_matrix_of_the_latest_day():
    summary = {
        "compatibility": [
            {"component": "rpm", "version": "3.26", "core": "3.45", "count": 4},
            {"component": "rpm", "version": "3.25", "core": "3.45", "count": 1},
            {"component": "rpm", "version": "3.25", "core": "3.44", "count": 2},
            {"component": "file", "version": "1.2", "core": "3.45", "count": 9},
        ],
        "postgresql_core": [
            {"postgresql": "9.6", "core": "3.44", "count": 1},
            {"postgresql": "15", "core": "3.45", "count": 3},
            {"postgresql": "unknown", "core": "3.45", "count": 2},
        ],
    }
    assert charts()["compatibility"].build(summary, {"component": "rpm"}) == {
        "labels": ["3.26", "3.25"],
        "datasets": [{"label": "3.45", "data": [4, 1]}, {"label": "3.44", "data": [0, 2]}],
    }
    assert charts()["postgresql-core"].build(summary, {}) == {
        "labels": ["15", "9.6", "unknown"],
        "datasets": [{"label": "3.45", "data": [3, 0, 2]}, {"label": "3.44", "data": [0, 1, 0]}],
    }


def test_compatibility_charts_of_a_day_summarized_before_the_keys_existed_are_empty():
    empty = {"labels": [], "datasets": []}
    assert charts()["compatibility"].build({"date": "2026-01-01"}, {"component": "rpm"}) == empty
    assert charts()["postgresql-core"].build(None, {}) == empty
