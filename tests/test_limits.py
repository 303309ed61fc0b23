"""Per-client limits: reports, new systems and failed admin logins, counted in the database."""

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from pulpanalytics import limits
from pulpanalytics.checks import limits_share_one_store
from pulpanalytics.ingest import ingest
from pulpanalytics.models import LimitCounter, Report

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
CLIENT = "198.51.100.7"
OTHER = "198.51.100.8"
T = TypeVar("T")


def system_id(index: int) -> str:
    return f"{index:08x}-8888-4888-8888-888888888888"


def cache_rows() -> list[tuple[str, int]]:
    """The counters as stored: (key, count)."""
    return list(LimitCounter.objects.order_by("key").values_list("key", "count"))


def request_from(remote: str, forwarded: str | None = None) -> HttpRequest:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/", **extra)


# Which address counts.


def test_without_a_trusted_proxy_the_peer_counts_and_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert limits.client_address(request_from("192.0.2.1", "203.0.113.5")) == "192.0.2.1"


def test_behind_one_proxy_only_the_entry_it_appended_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "203.0.113.5, 10.0.0.1" itself; the router appended 198.51.100.20.
    request = request_from("10.128.0.4", "203.0.113.5, 10.0.0.1, 198.51.100.20")
    assert limits.client_address(request) == "198.51.100.20"


def test_behind_two_proxies_the_second_entry_from_the_right_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    request = request_from("10.128.0.4", "203.0.113.5, 198.51.100.20, 10.0.0.9")
    assert limits.client_address(request) == "198.51.100.20"


def test_a_missing_forwarded_entry_falls_back_to_the_peer(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert limits.client_address(request_from("10.128.0.4", "198.51.100.20")) == "10.128.0.4"
    assert limits.client_address(request_from("10.128.0.4")) == "10.128.0.4"


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("198.51.100.7:4711", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::9]:443", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("not an address", "unparsable:not an address"),
    ],
)
def test_an_ipv6_client_counts_as_its_whole_64_network(address, bucket):
    assert limits.client_bucket(address) == bucket


# Reports per client.


def test_reports_over_the_limit_get_429_with_retry_after(settings, client, telemetry):
    settings.REPORT_RATE_LIMIT = 3
    settings.RATE_LIMIT_WINDOW_SECONDS = 3600
    with time_machine.travel(NOON, tick=False):
        answers = [
            client.post("/", telemetry(system_id(i)), content_type="", REMOTE_ADDR=CLIENT)
            for i in range(4)
        ]
        other = client.post("/", telemetry(system_id(9)), content_type="", REMOTE_ADDR=OTHER)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    # At noon, the hour's window has 3,600 s left.
    assert answers[3].content.decode() == (
        "too many reports from this address; retry after 3600 seconds"
    )
    assert answers[3]["Retry-After"] == "3600"
    assert answers[3]["Content-Type"] == "text/plain; charset=utf-8"
    assert other.status_code == 200
    assert Report.objects.count() == 4


def test_rejected_bodies_count_against_the_report_limit(settings, client, telemetry):
    settings.REPORT_RATE_LIMIT = 2
    with time_machine.travel(NOON, tick=False):
        garbage = [client.post("/", b"\xff", content_type="", REMOTE_ADDR=CLIENT) for _ in "ab"]
        valid = client.post("/", telemetry(system_id(1)), content_type="", REMOTE_ADDR=CLIENT)
    assert [g.status_code for g in garbage] == [400, 400]
    assert valid.status_code == 429
    assert Report.objects.count() == 0


def test_the_report_limit_starts_afresh_in_the_next_window(settings, client, telemetry):
    settings.REPORT_RATE_LIMIT = 1
    settings.RATE_LIMIT_WINDOW_SECONDS = 600
    with time_machine.travel(NOON + dt.timedelta(seconds=590), tick=False):
        first = client.post("/", telemetry(system_id(1)), content_type="", REMOTE_ADDR=CLIENT)
        second = client.post("/", telemetry(system_id(2)), content_type="", REMOTE_ADDR=CLIENT)
    with time_machine.travel(NOON + dt.timedelta(seconds=600), tick=False):
        third = client.post("/", telemetry(system_id(3)), content_type="", REMOTE_ADDR=CLIENT)
    assert (first.status_code, second.status_code, third.status_code) == (200, 429, 200)
    assert second["Retry-After"] == "10"


# New systems per client.


def test_new_systems_over_the_limit_get_429_and_known_systems_go_on(settings, client, telemetry):
    settings.NEW_SYSTEM_RATE_LIMIT = 2
    with time_machine.travel(NOON, tick=False):
        new = [
            client.post("/", telemetry(system_id(i)), content_type="", REMOTE_ADDR=CLIENT)
            for i in range(3)
        ]
        known = client.post("/", telemetry(system_id(0)), content_type="", REMOTE_ADDR=CLIENT)
        elsewhere = client.post("/", telemetry(system_id(7)), content_type="", REMOTE_ADDR=OTHER)
    assert [answer.status_code for answer in new] == [200, 200, 429]
    assert new[2].content.decode() == (
        "too many new systems from this address; retry after 3600 seconds"
    )
    assert new[2]["Retry-After"] == "3600"
    assert known.content.decode() == "duplicate: already received today"
    assert elsewhere.content.decode() == "stored"
    assert Report.objects.count() == 3


def test_a_known_system_is_not_a_new_one_on_a_later_day(settings, client, telemetry):
    settings.NEW_SYSTEM_RATE_LIMIT = 1
    settings.RATE_LIMIT_WINDOW_SECONDS = 7 * 86400
    with time_machine.travel(NOON, tick=False):
        first = client.post("/", telemetry(system_id(1)), content_type="", REMOTE_ADDR=CLIENT)
    with time_machine.travel(NOON + dt.timedelta(days=1), tick=False):
        again = client.post("/", telemetry(system_id(1)), content_type="", REMOTE_ADDR=CLIENT)
        new = client.post("/", telemetry(system_id(2)), content_type="", REMOTE_ADDR=CLIENT)
    assert (first.content, again.content) == (b"stored", b"stored")
    assert new.status_code == 429
    assert Report.objects.count() == 2


# What the store holds.


def test_the_store_holds_only_hashed_addresses_for_the_window(settings, client, telemetry):
    settings.REPORT_RATE_LIMIT = 10
    settings.NEW_SYSTEM_RATE_LIMIT = 10
    with time_machine.travel(NOON, tick=False):
        client.post("/", telemetry(system_id(1)), content_type="", REMOTE_ADDR=CLIENT)
    keys = [key for key, _ in cache_rows()]
    assert len(keys) == 2
    start = int(NOON.timestamp())
    for key, scope in zip(keys, ["new_systems", "reports"], strict=True):
        prefix = f"limit:{scope}:{start}:"
        assert key.startswith(prefix)
        assert len(key) == len(prefix) + 32
        assert all(c in "0123456789abcdef" for c in key[len(prefix) :])
    assert CLIENT not in repr(cache_rows())


# Committed: the purge runs outside any transaction, never inside a report's.
@pytest.mark.django_db(transaction=True)
def test_expired_counters_are_purged(settings, client, telemetry, monkeypatch):
    settings.REPORT_RATE_LIMIT = 10
    settings.RATE_LIMIT_WINDOW_SECONDS = 600
    monkeypatch.setattr(limits, "_next_purge", 0.0)
    with time_machine.travel(NOON, tick=False):
        client.post("/", b"\xff", content_type="", REMOTE_ADDR=CLIENT)
    assert len(cache_rows()) == 1
    monkeypatch.setattr(limits, "_next_purge", 0.0)
    with time_machine.travel(NOON + dt.timedelta(seconds=601), tick=False):
        client.post("/", b"\xff", content_type="", REMOTE_ADDR=OTHER)
    # The first client's counter expired at 12:10:00 and is gone; only the new one is left.
    assert [key.split(":")[2] for key, _ in cache_rows()] == [str(int(NOON.timestamp()) + 600)]


def test_the_limits_add_no_statement_on_postgresql_and_two_at_most_elsewhere(
    settings, client, telemetry
):
    """PostgreSQL: the report and its counts are one call (migration 0011), limits on or off.
    SQLite: the report limit and the client's count of new systems in one round trip, the new
    system counted inside the report's transaction; no lock, no read-modify-write."""

    def statements(address: str, *bodies: bytes) -> list[int]:
        counts = []
        for body in bodies:
            with CaptureQueriesContext(connection) as queries:
                client.post("/", body, content_type="", REMOTE_ADDR=address)
            # Not the savepoints: they are there because the test runs in a transaction.
            sql = [query["sql"] for query in queries.captured_queries]
            counts.append(sum("SAVEPOINT" not in statement for statement in sql))
        return counts

    settings.REPORT_RATE_LIMIT = settings.NEW_SYSTEM_RATE_LIMIT = 0
    with time_machine.travel(NOON, tick=False):
        off = statements(OTHER, telemetry(system_id(1)))
    with time_machine.travel(NOON + dt.timedelta(days=1), tick=False):
        off += statements(OTHER, telemetry(system_id(1)))
    settings.REPORT_RATE_LIMIT = settings.NEW_SYSTEM_RATE_LIMIT = 10
    with time_machine.travel(NOON, tick=False):
        on = statements(CLIENT, telemetry(system_id(2)))
    with time_machine.travel(NOON + dt.timedelta(days=1), tick=False):
        on += statements(CLIENT, telemetry(system_id(2)))
    if connection.vendor == "postgresql":
        assert (off, on) == ([1, 1], [1, 1])
    else:
        # A new system: the counting statement and the new system's; a known one: the first only.
        assert [a - b for a, b in zip(on, off, strict=True)] == [2, 1]
    # Counted all the same: 2 requests and 1 new system of CLIENT in this window.
    assert sorted(count for _, count in cache_rows()) == [1, 1, 1]


def test_a_refused_new_system_takes_its_count_back_with_its_rows(settings, client, telemetry):
    settings.NEW_SYSTEM_RATE_LIMIT = 2
    with time_machine.travel(NOON, tick=False):
        for i in range(5):
            client.post("/", telemetry(system_id(i)), content_type="", REMOTE_ADDR=CLIENT)
        key, _ = limits.NEW_SYSTEMS._key(CLIENT)
        assert LimitCounter.objects.get(key=key).count == 2
    assert Report.objects.count() == 2


def test_limits_set_to_zero_touch_no_store(settings, client, telemetry):
    settings.REPORT_RATE_LIMIT = 0
    settings.NEW_SYSTEM_RATE_LIMIT = 0
    for i in range(3):
        client.post("/", telemetry(system_id(i)), content_type="", REMOTE_ADDR=CLIENT)
    assert cache_rows() == []
    assert Report.objects.count() == 3


def test_an_unreachable_store_lets_reports_through_and_says_so(settings, client, telemetry, caplog):
    settings.REPORT_RATE_LIMIT = 1
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with caplog.at_level(logging.WARNING, logger="pulpanalytics.limits"):
        answers = [
            client.post("/", telemetry(system_id(i)), content_type="", REMOTE_ADDR=CLIENT)
            for i in range(2)
        ]
    assert [a.content for a in answers] == [b"stored", b"stored"]
    assert "limit reports: cache unavailable, not limiting" in caplog.messages


def test_a_process_local_cache_warns_that_limits_are_not_shared(settings):
    assert limits_share_one_store() == []
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [message.id for message in limits_share_one_store()] == ["pulpanalytics.W001"]
    settings.REPORT_RATE_LIMIT = settings.NEW_SYSTEM_RATE_LIMIT = 0
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 0
    assert limits_share_one_store() == []


# Several workers counting one client at once (PostgreSQL: real concurrent transactions).


def run_together(count: int, action: Callable[[int], T]) -> list[T]:
    """action(0), ..., action(count - 1) in `count` threads released at once, each on its own
    database connection, as gunicorn workers are."""
    barrier = threading.Barrier(count)

    def one(index: int) -> T:
        try:
            barrier.wait(timeout=30)
            return action(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


@pytest.fixture
def committed_counters() -> Iterator[None]:
    """These tests commit: no counter of theirs is left for the tests that follow."""
    LimitCounter.objects.all().delete()
    yield
    LimitCounter.objects.all().delete()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_counters")
def test_concurrent_hits_on_one_counter_are_all_counted(settings):
    settings.REPORT_RATE_LIMIT = 10_000
    threads, hits = 8, 25
    with time_machine.travel(NOON, tick=False):
        run_together(threads, lambda _: [limits.REPORTS.hit(CLIENT) for _ in range(hits)])
        key, _ = limits.REPORTS._key(CLIENT)
        assert LimitCounter.objects.get(key=key).count == threads * hits


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_counters")
def test_concurrent_new_systems_from_one_client_never_exceed_the_limit(settings, telemetry):
    settings.NEW_SYSTEM_RATE_LIMIT = 3
    bodies = [telemetry(system_id(i)) for i in range(16)]

    def post(index: int) -> tuple[int, str | None]:
        response = Client().post("/", bodies[index], content_type="", REMOTE_ADDR=CLIENT)
        return response.status_code, response.get("Retry-After")

    with time_machine.travel(NOON, tick=False):
        answers = run_together(len(bodies), post)
    assert Counter(status for status, _ in answers) == {200: 3, 429: 13}
    assert {retry for status, retry in answers if status == 429} == {"3600"}
    assert Report.objects.count() == 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_counters")
def test_concurrent_reports_from_one_client_never_exceed_the_report_limit(settings, telemetry):
    settings.REPORT_RATE_LIMIT = 5
    bodies = [telemetry(system_id(i)) for i in range(16)]

    def post(index: int) -> int:
        return Client().post("/", bodies[index], content_type="", REMOTE_ADDR=CLIENT).status_code

    with time_machine.travel(NOON, tick=False):
        answers = run_together(len(bodies), post)
        requests, _ = limits.REPORTS._key(CLIENT)
        new_systems, _ = limits.NEW_SYSTEMS._key(CLIENT)
        counted = dict(LimitCounter.objects.values_list("key", "count"))
    assert Counter(answers) == {200: 5, 429: 11}
    # Every request counted; only the stored ones as new systems.
    assert (counted[requests], counted[new_systems]) == (16, 5)
    assert Report.objects.count() == 5


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_counters")
def test_a_first_report_waiting_for_another_takes_its_new_system_count_back(settings, telemetry):
    """A first report of a system is stored in a transaction held open; six more of the same
    system arrive from another client meanwhile: each counts a new system against that client
    and waits for the registry row. When the first commits they find the day's report there:
    each is a repeat and takes its count back, so only the first client has added a system."""
    settings.NEW_SYSTEM_RATE_LIMIT = 10
    body = telemetry(system_id(7))
    counted, release = threading.Event(), threading.Event()

    def first() -> str:
        try:
            with transaction.atomic():
                outcome = ingest(body=body, received_at=NOON, client=CLIENT)
                counted.set()
                release.wait(timeout=30)
            return outcome.message
        finally:
            connections.close_all()

    def repeat(_: int) -> str:
        return Client().post("/", body, content_type="", REMOTE_ADDR=OTHER).content.decode()

    with time_machine.travel(NOON, tick=False), ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(first)
        assert counted.wait(timeout=30)
        threading.Timer(0.5, release.set).start()
        answers = run_together(6, repeat)
        assert held.result() == "stored"
        new_systems = {
            address: LimitCounter.objects.get(key=limits.NEW_SYSTEMS._key(address)[0]).count
            for address in (CLIENT, OTHER)
        }
    assert answers == ["duplicate: already received today"] * 6
    assert new_systems == {CLIENT: 1, OTHER: 0}
    assert Report.objects.count() == 1


# Failed admin logins.


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("staff", "staff@example.org", "right-password")


def log_in(client: Client, password: str, address: str = CLIENT) -> HttpResponse:
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "staff", "password": password},
        REMOTE_ADDR=address,
    )


def test_failed_admin_logins_over_the_limit_get_429_even_with_the_right_password(
    settings, client, staff
):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 3
    settings.ADMIN_LOGIN_WINDOW_SECONDS = 900
    with time_machine.travel(NOON, tick=False):
        failures = [log_in(client, "wrong") for _ in range(3)]
        blocked = log_in(client, "right-password")
        elsewhere = log_in(client, "right-password", address=OTHER)
    assert [f.status_code for f in failures] == [200, 200, 200]
    assert "Please enter the correct username and password" in failures[0].content.decode()
    assert blocked.status_code == 429
    assert blocked.content.decode() == (
        "too many failed logins from this address; retry after 900 seconds"
    )
    assert blocked["Retry-After"] == "900"
    assert (elsewhere.status_code, elsewhere["Location"]) == (302, "/admin/")


def test_admin_logins_work_again_after_the_window(settings, client, staff):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 1
    settings.ADMIN_LOGIN_WINDOW_SECONDS = 900
    with time_machine.travel(NOON, tick=False):
        log_in(client, "wrong")
        assert log_in(client, "right-password").status_code == 429
    with time_machine.travel(NOON + dt.timedelta(seconds=900), tick=False):
        assert log_in(client, "right-password").status_code == 302


def test_successful_admin_logins_do_not_count_as_failures(settings, client, staff):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 1
    with time_machine.travel(NOON, tick=False):
        for _ in range(3):
            assert log_in(client, "right-password").status_code == 302
            client.logout()
