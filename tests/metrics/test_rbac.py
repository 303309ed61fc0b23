"""RBAC usage: persistent systems by the numbers they reported."""

import datetime as dt

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.rbac import Rbac
from tests.helpers import system_id

pytestmark = pytest.mark.django_db
D0, D1 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def test_rbac_of_an_empty_day_is_an_empty_list():
    assert Rbac().summarize(Day(D1, 1)) == {"rbac": []}


def test_rbac_counts_systems_per_measure_and_number_present_zero_included(report_on):
    sent = [
        {"users": 5, "groups": 0, "domains": 1, "custom_access_policies": 0, "custom_roles": 2},
        {"users": 5, "groups": 3},
        {"users": 40},
        None,  # an old client
    ]
    for n, rbac in enumerate(sent):
        report_on(D0, system_id(n))
        report_on(D1, system_id(n), rbac=rbac)
    report_on(D1, system_id(77), rbac={"users": 5})  # new system: not counted
    assert Rbac().summarize(Day(D1, 1)) == {
        "rbac": [
            {"measure": "users", "number": 5, "count": 2},
            {"measure": "users", "number": 40, "count": 1},
            {"measure": "groups", "number": 0, "count": 1},
            {"measure": "groups", "number": 3, "count": 1},
            {"measure": "domains", "number": 1, "count": 1},
            {"measure": "custom_access_policies", "number": 0, "count": 1},
            {"measure": "custom_roles", "number": 2, "count": 1},
        ]
    }


def test_rbac_charts_bucket_each_measure():
    summaries = [
        {
            "date": "2026-03-01",
            "rbac": [
                {"measure": "users", "number": 5, "count": 2},
                {"measure": "users", "number": 6, "count": 1},
                {"measure": "groups", "number": 0, "count": 4},
            ],
        },
        {"date": "2026-03-02", "rbac": [{"measure": "users", "number": 40, "count": 1}]},
    ]
    charts = {chart.name: chart for chart in Rbac().charts()}
    assert list(charts) == [
        "rbac-share",
        "rbac-users",
        "rbac-groups",
        "rbac-domains",
        "rbac-custom-access-policies",
        "rbac-custom-roles",
    ]
    assert charts["rbac-users"].series.build(summaries, {}) == {
        "labels": ["2026-03-01", "2026-03-02"],
        "datasets": [
            {"label": "4\u20137", "data": [3, 0]},
            {"label": "32\u201363", "data": [0, 1]},
        ],
    }
    assert charts["rbac-groups"].series.build(summaries, {})["datasets"] == [
        {"label": "0", "data": [4, 0]},
    ]
    assert charts["rbac-domains"].series.build(summaries, {})["datasets"] == []


def test_the_share_that_uses_it_divides_by_the_systems_that_sent_the_measure():
    from pulpanalytics.metrics.rbac import share_using

    summary = {
        "rbac": [
            {"measure": "users", "number": 5, "count": 9},
            {"measure": "domains", "number": 0, "count": 6},
            {"measure": "domains", "number": 2, "count": 1},
            {"measure": "domains", "number": 0, "count": 1, "other": True},  # 1..k-1: numbers >= 1
            {"measure": "custom_roles", "number": 3, "count": 4},
            {"measure": "custom_roles", "number": 0, "count": 2, "other": True},  # 0 may be in it
        ]
    }
    assert share_using(summary, "domains") == 25.0  # 2 of the 8 that sent domains
    assert share_using(summary, "custom_roles") is None
    assert share_using(summary, "custom_access_policies") is None  # nobody sent it
    chart = next(c for c in Rbac().charts() if c.name == "rbac-share")
    assert chart.percent
    assert chart.series.build([{"date": "2026-03-01", **summary}], {})["datasets"] == [
        {"label": "Domains", "data": [25.0]},
        {"label": "Custom access policies", "data": [None]},
        {"label": "Custom roles", "data": [None]},
    ]
