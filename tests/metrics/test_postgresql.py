"""PostgreSQL versions of persistent systems."""

import datetime as dt

import pytest

from pulpanalytics.metrics.base import Day
from pulpanalytics.metrics.postgresql import PostgresqlVersions
from tests.helpers import system_id

pytestmark = pytest.mark.django_db
D0, D1 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def test_postgresql_of_an_empty_day_is_an_empty_list():
    assert PostgresqlVersions().summarize(Day(D1, 1)) == {"postgresql_versions": []}


def test_postgresql_counts_versions_with_absent_zero_and_implausible_as_unknown(report_on):
    # 4294967295 and 150104 are no server_version_num (plausible.py): counted as not sent.
    versions = [150004, 150004, 90624, 0, None, 4294967295, 150104]
    for n in range(len(versions)):
        report_on(D0, system_id(n))
    for n, version in enumerate(versions):
        report_on(D1, system_id(n), postgresql_version=version)
    report_on(D1, system_id(99), postgresql_version=160001)  # new system: not counted
    assert PostgresqlVersions().summarize(Day(D1, 1)) == {
        "postgresql_versions": [
            {"version": 150004, "count": 2},
            {"version": 90624, "count": 1},
            {"version": 0, "count": 4},
        ]
    }


def test_postgresql_charts_label_versions_and_group_majors():
    summaries = [
        {
            "date": "2026-03-01",
            "postgresql_versions": [
                {"version": 150004, "count": 2},
                {"version": 90624, "count": 1},
            ],
        },
        {
            "date": "2026-03-02",
            "postgresql_versions": [
                {"version": 160001, "count": 1},
                {"version": 150006, "count": 1},
                {"version": 150004, "count": 2},
                {"version": 0, "count": 3},
            ],
        },
    ]
    latest, majors = PostgresqlVersions().charts()
    assert latest.build(summaries[-1], {}) == {
        "labels": ["16.1", "15.6", "15.4", "unknown"],
        "datasets": [{"label": "Systems", "data": [1, 1, 2, 3]}],
    }
    assert majors.series.build(summaries, {}) == {
        "labels": ["2026-03-01", "2026-03-02"],
        "datasets": [
            {"label": "16", "data": [0, 1]},
            {"label": "15", "data": [2, 3]},
            {"label": "9.6", "data": [1, 0]},
            {"label": "unknown", "data": [0, 3]},
        ],
    }
