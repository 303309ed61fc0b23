"""Online workers: averages of processes and hosts."""

import datetime as dt

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.workers import OnlineWorkers
from tests.helpers import system_id

pytestmark = pytest.mark.django_db
D0, D1 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def test_workers_of_an_empty_day_are_null():
    assert OnlineWorkers().summarize(Day(D1, 1)) == {
        "online_workers": {
            "processes_avg": None,
            "hosts_avg": None,
            "processes_p50": None,
            "processes_p90": None,
            "hosts_p50": None,
            "hosts_p90": None,
        },
    }


def test_workers_average_only_the_systems_that_sent_each_value(report_on):
    sent = [(4, 2), (2, None), (0, 1), None]
    for n in range(len(sent)):
        report_on(D0, system_id(n))
    for n, workers in enumerate(sent):
        report_on(D1, system_id(n), workers=workers)
    report_on(D1, system_id(50), workers=(1000, 1000))  # new system: not counted
    assert OnlineWorkers().summarize(Day(D1, 1)) == {
        # processes 0, 2, 4; hosts 1, 2 (nearest rank: half of 2 is the first)
        "online_workers": {
            "processes_avg": 2.0,
            "hosts_avg": 1.5,
            "processes_p50": 2,
            "processes_p90": 4,
            "hosts_p50": 1,
            "hosts_p90": 2,
        },
    }


def test_workers_average_rounds_to_four_decimals(report_on):
    for n, workers in enumerate([(1, 1), (1, 1), (2, 100000)]):
        report_on(D0, system_id(n))
        report_on(D1, system_id(n), workers=workers)
    assert OnlineWorkers().summarize(Day(D1, 1)) == {
        "online_workers": {
            "processes_avg": 1.3333,
            "hosts_avg": 33334.0,
            "processes_p50": 1,
            "processes_p90": 2,
            "hosts_p50": 1,
            "hosts_p90": 100000,
        },
    }


def test_workers_above_the_plausible_ceiling_count_as_not_sent(report_on):
    # One system claiming 4294967295 processes must not move the public average (5.7 -> 1.6e8).
    for n, workers in enumerate([(4, 1), (6, 2), (4294967295, 4294967295), (100001, 3)]):
        report_on(D0, system_id(n))
        report_on(D1, system_id(n), workers=workers)
    assert OnlineWorkers().summarize(Day(D1, 1)) == {
        # processes 4, 6; hosts 1, 2, 3: the implausible ones are not sent
        "online_workers": {
            "processes_avg": 5.0,
            "hosts_avg": 2.0,
            "processes_p50": 4,
            "processes_p90": 6,
            "hosts_p50": 2,
            "hosts_p90": 3,
        },
    }


def test_workers_chart_has_processes_and_hosts_lines():
    percentiles = {"processes_p50": 3, "processes_p90": 9, "hosts_p50": 1, "hosts_p90": 2}
    summaries = [
        # Summarized before the percentiles existed: no value there, the averages still drawn.
        {"date": "2026-03-01", "online_workers": {"processes_avg": None, "hosts_avg": None}},
        {
            "date": "2026-03-02",
            "online_workers": {"processes_avg": 4.5, "hosts_avg": 1.25, **percentiles},
        },
    ]
    (chart,) = OnlineWorkers().charts()
    assert chart.name == "online-workers"
    assert chart.series.build(summaries, {}) == {
        "labels": ["2026-03-01", "2026-03-02"],
        "datasets": [
            {"label": "Processes (average)", "data": [None, 4.5]},
            {"label": "Processes (median)", "data": [None, 3]},
            {"label": "Processes (p90)", "data": [None, 9]},
            {"label": "Hosts (average)", "data": [None, 1.25]},
            {"label": "Hosts (median)", "data": [None, 1]},
            {"label": "Hosts (p90)", "data": [None, 2]},
        ],
    }


def test_percentiles_are_the_nearest_rank():
    from pulpanalytics.metrics.averages import nearest_rank

    ten = [(value, 1) for value in range(1, 11)]
    assert [nearest_rank(ten, p) for p in (50, 90)] == [5, 9]
    assert [nearest_rank([(1, 9), (100, 1)], p) for p in (50, 90)] == [1, 1]
    assert nearest_rank([(3, 1)], 90) == 3
    assert nearest_rank([], 50) is None
