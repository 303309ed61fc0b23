"""Honest denominators: a chart of an optional field says how many systems sent it, and the
deployment charts give the median and the 90th percentile beside the average."""

import datetime as dt

import pytest
from django.utils import timezone

from pulpanalytics.summarize import store_summary
from tests.helpers import system_id

pytestmark = pytest.mark.django_db

D0, D1 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


@pytest.fixture
def three_persistent(report_on) -> None:
    """Three persistent systems on D1: two send a PostgreSQL version, one RBAC numbers, all
    workers (1, 2 and 30 processes)."""
    sent = [
        {"postgresql_version": 150004, "workers": (1, 1)},
        {"postgresql_version": 160002, "workers": (2, 1), "rbac": {"users": 3}},
        {"workers": (30, 4)},
    ]
    for n, fields in enumerate(sent):
        report_on(D0, system_id(n))
        report_on(D1, system_id(n), **fields)
    store_summary(D0, now=timezone.now())
    store_summary(D1, now=timezone.now())


def text(client, path: str) -> str:
    return " ".join(client.get(path, {"range": "all"}).content.decode().split())


def test_charts_of_an_optional_field_say_how_many_systems_sent_it(client, three_persistent):
    postgresql = text(client, "/postgresql/")
    said = (
        "2 of 3 persistent systems report this (on 2026-03-02); the numbers are of those that do."
    )
    assert postgresql.count(said) == 2
    assert "1 of 3 persistent systems report this (on 2026-03-02)" in text(client, "/rbac/")
    assert "3 of 3 persistent systems report this (on 2026-03-02)" in text(client, "/deployments/")
    # A chart of no optional field says nothing of the kind.
    assert "report this" not in text(client, "/age/")


def test_deployments_show_the_median_and_the_90th_percentile_beside_the_average(
    client, three_persistent
):
    data = client.get("/api/v1/charts/online-workers/", {"start": "2026-03-02"}).json()
    assert {d["label"]: d["data"] for d in data["datasets"]} == {
        "Processes (average)": [11.0],
        "Processes (median)": [2],
        "Processes (p90)": [30],
        "Hosts (average)": [2.0],
        "Hosts (median)": [1],
        "Hosts (p90)": [4],
    }
