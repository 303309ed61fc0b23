"""An optional read replica: public pages and the API read there; ingest, summarize, the admin
and the limits stay on the primary (pulpanalytics/replica.py)."""

import datetime as dt
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pulpanalytics.models import DailySummary, Report
from pulpanalytics.replica import REPLICA, ReplicaRouter, public_reads
from pulpanalytics.summarize import store_summary

# The replica reads committed rows through its own connection.
pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def replica_alias(settings, database: dict) -> Iterator[None]:
    """A connection to `database` under the alias DATABASE_REPLICA_URL makes.

    Made by hand rather than in settings: Django's test case allows only the aliases it was
    set up with, and a connection made during a test is one it allows."""
    with warnings.catch_warnings():  # "Overriding setting DATABASES": only the router reads it
        warnings.simplefilter("ignore")
        settings.DATABASES = {**settings.DATABASES, REPLICA: database}
    connections.settings[REPLICA] = database
    connection = connections.create_connection(REPLICA)
    del connections.settings[REPLICA]
    connections[REPLICA] = connection
    try:
        yield
    finally:
        connection.close()
        del connections[REPLICA]


@pytest.fixture
def replica(settings) -> Iterator[None]:
    """A second connection to the test database as the replica."""
    with replica_alias(settings, dict(connections["default"].settings_dict)):
        yield


def statements(alias: str) -> CaptureQueriesContext:
    return CaptureQueriesContext(connections[alias])


def summarized_day(report_on) -> None:
    day = dt.date(2026, 3, 1)
    for n in range(3):
        report_on(day, f"{n:08x}-0000-4000-8000-000000000000")
    store_summary(day, now=timezone.now())


def test_without_a_replica_everything_reads_the_primary():
    with public_reads():
        assert ReplicaRouter().db_for_read(object) == "default"


@pytest.mark.usefixtures("replica")
def test_only_public_reads_go_to_the_replica_and_writes_never():
    router = ReplicaRouter()
    assert router.db_for_read(object) == "default"
    with public_reads():
        assert router.db_for_read(object) == REPLICA
        assert router.db_for_write(object) == "default"
    assert router.allow_migrate("default", "pulpanalytics")
    assert not router.allow_migrate(REPLICA, "pulpanalytics")


@pytest.mark.usefixtures("replica")
def test_pages_and_the_api_read_the_replica(client, report_on):
    summarized_day(report_on)
    for path in ["/", "/deployments/", "/api/v1/summaries/2026-03-01/", "/api/v1/charts/systems/"]:
        with statements("default") as primary, statements(REPLICA) as replica:
            assert client.get(path).status_code == 200, path
        assert replica.captured_queries, path
        # The primary counts a page render against its client's limit, and nothing else.
        assert all("limitcounter" in q["sql"] for q in primary.captured_queries), path


@pytest.mark.usefixtures("replica")
def test_ingest_and_the_admin_stay_on_the_primary(client, telemetry, admin_client):
    with statements("default") as primary, statements(REPLICA) as replica:
        assert client.post("/", telemetry(), content_type="").content == b"stored"
        assert admin_client.get("/admin/pulpanalytics/system/").status_code == 200
    assert primary.captured_queries
    assert replica.captured_queries == []


@pytest.fixture
def replica_database(settings, tmp_path) -> Iterator[str]:
    """A second database of its own under the replica's alias, migrated like the primary: it
    holds what the test puts there and nothing the primary gets, as a lagging replica would."""
    primary = connections["default"]
    replica_settings = dict(primary.settings_dict)
    if primary.vendor == "postgresql":
        name = f"{primary.settings_dict['NAME']}_replica"
        with primary.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
    else:
        name = str(tmp_path / "replica.sqlite3")
    replica_settings.update(NAME=name, TEST={"NAME": name})
    with replica_alias(settings, replica_settings):
        # The router keeps migrate off the replica (a real one is a copy); this one is made here.
        with override_settings(DATABASE_ROUTERS=[]):
            call_command("migrate", database=REPLICA, verbosity=0)
        yield name
    if primary.vendor == "postgresql":
        with primary.cursor() as cursor:
            cursor.execute(f'DROP DATABASE "{name}"')


def test_with_a_second_database_pages_show_its_days_and_reports_go_to_the_primary(
    replica_database, client, telemetry
):
    """The primary has 2026-03-01 summarized; the replica has not caught up and holds only
    2026-02-28: the public API and pages show the replica's day, ingest writes to the primary."""
    empty = {"date": "", "systems": 0}
    for alias, day, systems in (("default", "2026-03-01", 5), (REPLICA, "2026-02-28", 7)):
        DailySummary.objects.using(alias).create(
            date=dt.date.fromisoformat(day),
            json=json.dumps({**empty, "date": day, "systems": systems}),
            computed_at=timezone.now(),
        )
    listed = client.get("/api/v1/summaries/").json()
    assert [(s["date"], s["systems"]) for s in listed["summaries"]] == [("2026-02-28", 7)]
    assert client.get("/api/v1/summaries/2026-03-01/").status_code == 404
    assert client.post("/", telemetry(), content_type="").content == b"stored"
    assert (Report.objects.using("default").count(), Report.objects.using(REPLICA).count()) == (
        1,
        0,
    )
