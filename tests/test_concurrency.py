"""docs/reliability.md B1, B3, C2 and the statement timeout: a real gunicorn on PostgreSQL."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
from django.db import connection

from app.asgi import THREADS
from bench.server import Gunicorn
from pulpanalytics.models import Report, System
from tests.helpers import build_telemetry, record

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def system_id(index: int, group: int = 7) -> str:
    return f"{index:08x}-{group:04x}-4777-8777-777777777777"


def test_64_concurrent_posts_of_one_system_store_one_row(gunicorn):
    repetitions = 3
    outcomes: Counter[tuple[int, str]] = Counter()
    for repetition in range(repetitions):
        body = build_telemetry(system_id(repetition)).SerializeToString()
        # All 64 connect first, then send together: 3 workers race on one (system, day).
        barrier = threading.Barrier(64)

        def post(
            _: int, body: bytes = body, barrier: threading.Barrier = barrier
        ) -> tuple[int, str]:
            barrier.wait(timeout=30)
            response = gunicorn.post(body)
            return response.status, response.text

        with ThreadPoolExecutor(max_workers=64) as pool:
            answers = Counter(pool.map(post, range(64)))
        assert answers == {(200, "stored"): 1, (200, "duplicate: already received today"): 63}
        outcomes.update(answers)
    record(
        "B1 same id x 64",
        f"{repetitions} repetitions x 64 concurrent POSTs, 3 workers: 1 row each time, "
        f"0 x 5xx, answers {dict(outcomes)}",
    )
    assert Report.objects.count() == repetitions
    assert System.objects.count() == repetitions


def test_1000_distinct_systems_posted_concurrently_make_1000_rows(gunicorn):
    bodies = [build_telemetry(system_id(i, 8)).SerializeToString() for i in range(1000)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = Counter(
            (response.status, response.text) for response in pool.map(gunicorn.post, bodies)
        )
    seconds = time.perf_counter() - start
    record(
        "B3 1,000 ids",
        f"1,000 rows from 1,000 POSTs by 32 concurrent clients in {seconds:.1f} s "
        f"({1000 / seconds:.0f} req/s, 3 workers), answers {dict(answers)}",
    )
    assert answers == {(200, "stored"): 1000}
    assert Report.objects.count() == 1000
    assert System.objects.count() == 1000


def kill_server_connections() -> int:
    """pg_terminate_backend every other session on the test database: a silent DB restart."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def ten_posts_after_killing_connections(server: Gunicorn, group: int) -> Counter[int]:
    # Enough requests that every worker holds a persistent connection before the kill.
    for i in range(4 * server.workers):
        assert server.post(build_telemetry(system_id(i, group)).SerializeToString()).status == 200
    assert kill_server_connections() >= 1
    statuses = Counter()
    for i in range(10):
        body = build_telemetry(system_id(100 + i, group)).SerializeToString()
        statuses[server.post(body).status] += 1
    return statuses


def test_requests_after_the_database_dropped_every_connection_all_succeed(gunicorn):
    statuses = ten_posts_after_killing_connections(gunicorn, group=9)
    record("C2 connections killed", f"next 10 requests: {dict(statuses)} (CONN_HEALTH_CHECKS on)")
    assert statuses == {200: 10}


def test_without_health_checks_a_dropped_connection_costs_a_request(gunicorn_factory):
    # The control experiment: the same kill with DB_CONN_HEALTH_CHECKS off and one worker. Its
    # Django threads (app/asgi.py) hold a connection each once they served a request, one or
    # all of them as the requests fell; each stale connection costs the request that meets it
    # a 503, never a 500.
    server = gunicorn_factory(workers=1, DB_CONN_HEALTH_CHECKS="false")
    try:
        statuses = ten_posts_after_killing_connections(server, group=10)
    finally:
        server.stop()
    record("C2 without health checks", f"next 10 requests: {dict(statuses)} (1 worker)")
    assert set(statuses) == {200, 503}
    assert 1 <= statuses[503] <= THREADS


def test_a_locked_table_gets_503_within_the_statement_timeout(gunicorn_factory):
    server = gunicorn_factory(workers=1, DB_STATEMENT_TIMEOUT_MS="300")
    settings_dict = connection.settings_dict
    locker = psycopg2.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or None,
    )
    try:
        with locker.cursor() as cursor:
            # Like a migration or a long prune: the raw table is locked for longer than the
            # statement timeout.
            cursor.execute(f"LOCK TABLE {Report._meta.db_table} IN ACCESS EXCLUSIVE MODE")
            start = time.perf_counter()
            locked = server.post(build_telemetry(system_id(1, 11)).SerializeToString())
            seconds = time.perf_counter() - start
        locker.rollback()
        after = server.post(build_telemetry(system_id(2, 11)).SerializeToString())
    finally:
        locker.close()
        server.stop()
    record(
        "C3 short: lock held",
        f"503 after {seconds * 1000:.0f} ms with DB_STATEMENT_TIMEOUT_MS=300; 200 once released",
    )
    assert (locked.status, locked.text) == (503, "service unavailable, try later")
    assert locked.headers["retry-after"] == "60"
    assert seconds < 0.300 + 1
    assert (after.status, after.text) == (200, "stored")
    assert "database statement timed out for POST /" in server.log()
    assert Report.objects.count() == 1
