"""Fields: how many persistent systems sent each optional field."""

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.fields import Fields
from tests.metrics.decisions_scenario import D1, D4, store_scenario

pytestmark = pytest.mark.django_db


def test_fields_of_an_empty_day_list_every_field_at_zero():
    assert Fields().summarize(Day(D1, 1)) == {
        "fields": [
            {"field": "postgresql_version", "systems": 0},
            {"field": "rbac_stats", "systems": 0},
            {"field": "online_workers", "systems": 0},
            {"field": "online_content_apps", "systems": 0},
        ]
    }


def test_fields_count_persistent_systems_that_sent_each(report_on):
    store_scenario(report_on)
    # postgresql_version: 1 (15), 4 and 6 (9.6); 2 sent 0 (not sent), 7 is new.
    assert Fields().summarize(Day(D1, 1))["fields"] == [
        {"field": "postgresql_version", "systems": 3},
        {"field": "rbac_stats", "systems": 1},
        {"field": "online_workers", "systems": 2},
        {"field": "online_content_apps", "systems": 1},
    ]
    # 123456 is no server_version_num: not sent.
    assert Fields().summarize(Day(D4, 1))["fields"][0] == {
        "field": "postgresql_version",
        "systems": 0,
    }


def test_fields_chart_is_the_share_of_persistent_systems():
    (chart,) = Fields().charts()
    summary = {
        "date": "2026-03-02",
        "persistent_systems": 4,
        "fields": [
            {"field": "postgresql_version", "systems": 3},
            {"field": "rbac_stats", "systems": 1},
            {"field": "online_workers", "systems": 2},
            {"field": "online_content_apps", "systems": 0},
        ],
    }
    assert chart.series.build([{"date": "2026-03-01"}, summary], {})["datasets"] == [
        {"label": "postgresql_version", "data": [None, 75.0]},
        {"label": "rbac_stats", "data": [None, 25.0]},
        {"label": "online_workers", "data": [None, 50.0]},
        {"label": "online_content_apps", "data": [None, 0.0]},
    ]
