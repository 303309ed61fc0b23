"""Upgrades: (component, previous version, version) of persistent systems, from the raw rows."""

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.upgrades import Upgrades
from tests.helpers import system_id
from tests.metrics.decisions_scenario import D0, D1, D4, store_scenario

pytestmark = pytest.mark.django_db


def charts() -> dict:
    return {chart.name: chart for chart in Upgrades().charts()}


def test_upgrades_of_an_empty_day_are_an_empty_list():
    assert Upgrades().summarize(Day(D1, 1)) == {"upgrades": []}


def test_upgrades_compare_each_system_with_its_previous_report(report_on):
    store_scenario(report_on)
    # 1 upgrades core, 2 downgrades it, 4 (no core) upgrades file; 5's rpm and deb are each in
    # one report only, 6 changed nothing, 7 is new.
    assert Upgrades().summarize(Day(D1, 1)) == {
        "upgrades": [
            {"component": "core", "from": "3.44.1", "to": "3.45.0", "count": 1},
            {"component": "core", "from": "3.45.0", "to": "3.44.1", "count": 1},
            {"component": "file", "from": "1.2.0", "to": "1.3.0", "count": 1},
        ]
    }


def test_an_upgrade_after_a_gap_of_several_days_compares_with_the_last_report(report_on):
    store_scenario(report_on)
    assert Upgrades().summarize(Day(D4, 1)) == {
        "upgrades": [{"component": "core", "from": "3.44.1", "to": "3.45.2", "count": 1}]
    }


def test_the_previous_report_is_the_latest_earlier_one_not_the_first(report_on):
    for day, version in ((D0, "3.44.0"), (D1, "3.44.1"), (D4, "3.45.0")):
        report_on(day, system_id(1), components={"core": version})
    assert Upgrades().summarize(Day(D4, 1))["upgrades"] == [
        {"component": "core", "from": "3.44.1", "to": "3.45.0", "count": 1}
    ]
    # Summarizing an earlier day again never looks at later reports.
    assert Upgrades().summarize(Day(D1, 1))["upgrades"] == [
        {"component": "core", "from": "3.44.0", "to": "3.44.1", "count": 1}
    ]


def test_upgrades_fold_rare_names_and_order_newest_first(report_on, settings):
    settings.PLUGIN_MIN_SYSTEMS = 2
    for n, (before, after) in enumerate(
        [("3.9.0", "3.10.0"), ("3.10.0", "3.10.1"), ("3.9.0", "3.10.0")]
    ):
        report_on(D0, system_id(n), components={"core": before, f"mine{n}": "1.0.0"})
        report_on(D1, system_id(n), components={"core": after, f"mine{n}": "1.0.1"})
    assert Upgrades().summarize(Day(D1, 1))["upgrades"] == [
        {"component": "core", "from": "3.10.0", "to": "3.10.1", "count": 1},
        {"component": "core", "from": "3.9.0", "to": "3.10.0", "count": 2},
        {"component": "other", "from": "other", "to": "other", "count": 3, "other": True},
    ]


def test_upgrades_charts_count_per_component_and_per_path():
    summaries = [
        {"date": "2026-03-01"},  # summarized before upgrades existed: no value
        {
            "date": "2026-03-02",
            "components": [{"name": "core"}, {"name": "file"}, {"name": "rpm"}],
            "upgrades": [
                {"component": "core", "from": "3.44.1", "to": "3.45.0", "count": 3},
                {"component": "core", "from": "3.45.0", "to": "3.44.1", "count": 1},
                {"component": "file", "from": "1.2.0", "to": "1.3.0", "count": 2},
            ],
        },
    ]
    assert charts()["upgrades"].series.build(summaries, {}) == {
        "labels": ["2026-03-01", "2026-03-02"],
        "datasets": [
            {"label": "core", "data": [None, 4]},
            {"label": "file", "data": [None, 2]},
            {"label": "rpm", "data": [None, 0]},
        ],
    }
    paths = charts()["upgrade-paths"].series.build(summaries, {"component": "core"})
    assert paths["datasets"] == [
        {"label": "3.44.1 \u2192 3.45.0", "data": [0, 3]},
        {"label": "3.45.0 \u2192 3.44.1", "data": [0, 1]},
    ]
    assert charts()["upgrade-paths"].every_parameter_set(summaries[1]) == [
        {"component": "core"},
        {"component": "file"},
    ]
