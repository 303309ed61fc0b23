"""Shared fixtures: protobuf builders, POST helpers, and the settings every test runs under."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client
from pytest_django import DjangoDbBlocker

from pulpanalytics.telemetry_pb2 import Telemetry

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    # The manifest storage needs collectstatic; tests that check hashed names set it back.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build_telemetry(
    system_id: str = "11111111-1111-4111-8111-111111111111",
    *,
    components: dict[str, str] | list[tuple[str, str]] | None = None,
    workers: tuple[int | None, int | None] | None = None,
    content_apps: tuple[int | None, int | None] | None = None,
    postgresql_version: int | None = None,
    rbac: dict[str, int] | None = None,
) -> Telemetry:
    """A Telemetry message; components default to core 3.45.2 and file 1.2.3."""
    report = Telemetry(system_id=system_id)
    if components is None:
        components = {"core": "3.45.2", "file": "1.2.3"}
    pairs = components.items() if isinstance(components, dict) else components
    for name, version in pairs:
        report.components.add(name=name, version=version)
    for field, pair in (("online_workers", workers), ("online_content_apps", content_apps)):
        if pair is not None:
            message = getattr(report, field)
            message.SetInParent()
            if pair[0] is not None:
                message.processes = pair[0]
            if pair[1] is not None:
                message.hosts = pair[1]
    if postgresql_version is not None:
        report.postgresql_version = postgresql_version
    if rbac is not None:
        report.rbac_stats.SetInParent()
        for key, value in rbac.items():
            setattr(report.rbac_stats, key, value)
    return report


@pytest.fixture
def telemetry() -> Callable[..., bytes]:
    """telemetry(system_id, components=..., workers=..., ...) -> serialized bytes."""

    def make(*args, **kwargs) -> bytes:
        return build_telemetry(*args, **kwargs).SerializeToString()

    return make


@pytest.fixture
def post_report(client: Client) -> Callable[[bytes], "object"]:
    """POST raw bytes to / as pulpcore does (no Content-Type of its own)."""

    def post(body: bytes, **headers):
        # Like any HTTP client, send Content-Length (Django's test client omits it for b"").
        headers.setdefault("CONTENT_LENGTH", str(len(body)))
        return client.generic("POST", "/", body, content_type="", **headers)

    return post


@pytest.fixture(scope="session")
def pulpcore_reports() -> list[dict]:
    """40 real-wire reports from shared/fixtures, encoded independently of our .proto."""
    with open(FIXTURES / "pulpcore-reports.jsonl") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture
def post_at(post_report):
    """post_at(datetime, body) -> response: a POST received at that (frozen) moment."""
    import time_machine

    def post(moment, body: bytes):
        with time_machine.travel(moment, tick=False):
            return post_report(body)

    return post


@pytest.fixture
def summarize_at():
    """summarize_at(datetime, *args) -> output lines of `manage.py summarize` run at that moment."""
    from io import StringIO

    import time_machine
    from django.core.management import call_command

    def run(moment, *args: str) -> list[str]:
        out = StringIO()
        with time_machine.travel(moment, tick=False):
            call_command("summarize", *args, stdout=out)
        return out.getvalue().splitlines()

    return run


@pytest.fixture
def report_on():
    """report_on(day, system_id, **telemetry fields): store a report through the ingest code."""
    from pulpanalytics.ingest import store_report

    def store(day, system_id: str, **fields) -> None:
        store_report(report=build_telemetry(system_id, **fields), day=day)

    return store


def system_id(number: int) -> str:
    """A distinct valid UUIDv4 per number."""
    return f"{number:08x}-0000-4000-8000-000000000000"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        default=None,
        help="write the browser tests' page screenshots to this folder (make screenshots)",
    )


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # Chart data is cached (LocMemCache lives as long as the process): each test starts cold.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="module")
def site_data(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """tests/site_data.py, committed once for a module of read-only tests, removed after it.

    Committed (not rolled back) so that the live server's thread sees it too. The module's
    tests carry the `django_db` mark (so that pytest-django sets the test database up) and only
    read; nothing else runs while the data is there.
    """
    from django.db import connection

    from pulpanalytics.models import Component, DailySummary, Report, System
    from tests.site_data import seed

    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        assert (
            connection.is_in_memory_db()
            if connection.vendor == "sqlite"
            else name.startswith("test_")
        ), f"refusing to seed {name}: not a test database"
        seed()
        yield
        Component.objects.all().delete()
        Report.objects.all().delete()
        System.objects.all().delete()
        DailySummary.objects.all().delete()
