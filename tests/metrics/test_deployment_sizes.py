"""Deployment sizes: persistent systems by processes and hosts, in power-of-two buckets."""

import datetime as dt

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.deployment_sizes import DeploymentSizes, sizes_chart
from tests.helpers import system_id

pytestmark = pytest.mark.django_db
D0, D1 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def test_deployment_sizes_of_an_empty_day_are_an_empty_list():
    assert DeploymentSizes().summarize(Day(D1, 1)) == {"deployment_sizes": []}


def test_deployment_sizes_count_persistent_systems_per_bucket(report_on):
    sent = [(1, 1), (2, 1), (3, 2), (30, 4), (4294967295, 1), (None, None)]
    for n, workers in enumerate(sent):
        report_on(D0, system_id(n))
        report_on(D1, system_id(n), workers=workers, content_apps=(0, 1) if n == 0 else None)
    report_on(D1, system_id(99), workers=(500, 9))  # new system: not counted
    sizes = DeploymentSizes().summarize(Day(D1, 1))["deployment_sizes"]
    assert sizes == [
        # processes 1, 2, 3, 30 (4294967295 is above the ceiling: not sent)
        {"field": "online_workers", "part": "processes", "number": 1, "count": 1},
        {"field": "online_workers", "part": "processes", "number": 2, "count": 2},
        {"field": "online_workers", "part": "processes", "number": 16, "count": 1},
        # hosts 1, 1, 2, 4, 1
        {"field": "online_workers", "part": "hosts", "number": 1, "count": 3},
        {"field": "online_workers", "part": "hosts", "number": 2, "count": 1},
        {"field": "online_workers", "part": "hosts", "number": 4, "count": 1},
        {"field": "online_content_apps", "part": "processes", "number": 0, "count": 1},
        {"field": "online_content_apps", "part": "hosts", "number": 1, "count": 1},
    ]


def test_the_sizes_chart_draws_processes_and_hosts_per_bucket():
    summary = {
        "deployment_sizes": [
            {"field": "online_workers", "part": "processes", "number": 2, "count": 5},
            {"field": "online_workers", "part": "processes", "number": 16, "count": 1},
            {"field": "online_workers", "part": "hosts", "number": 1, "count": 6},
            {"field": "online_content_apps", "part": "hosts", "number": 1, "count": 9},
        ]
    }
    assert sizes_chart(summary, "online_workers") == {
        "labels": ["1", "2\u20133", "16\u201331"],
        "datasets": [
            {"label": "Processes", "data": [0, 5, 1]},
            {"label": "Hosts", "data": [6, 0, 0]},
        ],
    }
    assert sizes_chart(None, "online_workers") == {
        "labels": [],
        "datasets": [{"label": "Processes", "data": []}, {"label": "Hosts", "data": []}],
    }
