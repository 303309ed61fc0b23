"""An optional read replica: public pages and the API read there; ingest, summarize, the admin
and the limits stay on the primary (pulpanalytics/replica.py)."""

import datetime as dt
import warnings
from collections.abc import Iterator

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pulpanalytics.replica import REPLICA, ReplicaRouter, public_reads
from pulpanalytics.summarize import store_summary

# The replica reads committed rows through its own connection.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def replica(settings) -> Iterator[None]:
    """A second connection to the test database under the alias DATABASE_REPLICA_URL makes.

    Made by hand rather than in settings: Django's test case allows only the aliases it was
    set up with, and a connection made during a test is one it allows."""
    with warnings.catch_warnings():  # "Overriding setting DATABASES": only the router reads it
        warnings.simplefilter("ignore")
        settings.DATABASES = {**settings.DATABASES, REPLICA: dict(settings.DATABASES["default"])}
    connections.settings[REPLICA] = {**connections.settings["default"]}
    connection = connections.create_connection(REPLICA)
    del connections.settings[REPLICA]
    connections[REPLICA] = connection
    yield
    connection.close()
    del connections[REPLICA]


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
