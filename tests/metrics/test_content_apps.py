"""Online content apps: averages of processes and hosts."""

import datetime as dt

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.content_apps import OnlineContentApps
from tests.helpers import system_id

pytestmark = pytest.mark.django_db
D0, D1 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def test_content_apps_of_an_empty_day_are_null():
    assert OnlineContentApps().summarize(Day(D1, 1)) == {
        "online_content_apps": {
            "processes_avg": None,
            "hosts_avg": None,
            "processes_p50": None,
            "processes_p90": None,
            "hosts_p50": None,
            "hosts_p90": None,
        },
    }


def test_content_apps_average_over_persistent_systems(report_on):
    for n, apps in enumerate([(3, 1), (1, 1), (None, 2)]):
        report_on(D0, system_id(n))
        report_on(D1, system_id(n), content_apps=apps, workers=(9, 9))
    assert OnlineContentApps().summarize(Day(D1, 1)) == {
        # processes 1, 3; hosts 1, 1, 2 (nearest rank)
        "online_content_apps": {
            "processes_avg": 2.0,
            "hosts_avg": 1.3333,
            "processes_p50": 1,
            "processes_p90": 3,
            "hosts_p50": 1,
            "hosts_p90": 2,
        },
    }


def test_content_apps_chart():
    summaries = [
        {"date": "2026-03-02", "online_content_apps": {"processes_avg": 2.0, "hosts_avg": 1.0}}
    ]
    (chart,) = OnlineContentApps().charts()
    assert chart.name == "online-content-apps"
    datasets = chart.series.build(summaries, {})["datasets"]
    assert {d["label"]: d["data"] for d in datasets} == {
        "Processes (average)": [2.0],
        "Processes (median)": [None],
        "Processes (p90)": [None],
        "Hosts (average)": [1.0],
        "Hosts (median)": [None],
        "Hosts (p90)": [None],
    }
