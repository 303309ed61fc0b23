"""Shared fixtures: protobuf builders, POST helpers, and the settings every test runs under."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client
from pytest_django import DjangoDbBlocker

from bench.server import Gunicorn
from tests.helpers import FIGURES, build_telemetry, database_url, run_python, server_env

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    # The manifest storage needs collectstatic; tests that check hashed names set it back.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    """40 real-wire reports (tests/fixtures/README.md), encoded independently of our .proto."""
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


@pytest.fixture
def database_down() -> Iterator[None]:
    """Swap the default connection for one pointing at nothing: a closed port or no file."""
    from django.db import connections

    original = connections["default"]
    broken = dict(original.settings_dict)
    if original.vendor == "postgresql":
        broken.update(HOST="127.0.0.1", PORT="1")
    else:
        broken.update(NAME="/nonexistent-directory/pulpanalytics.sqlite3")
    wrapper = original.__class__(broken, alias="default")
    connections["default"] = wrapper
    yield
    connections["default"] = original
    wrapper.close()


# --- reliability: figures, PostgreSQL-only tests, a real gunicorn ---


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the reliability tests measured (docs/reliability.md asks for the figures)."""
    if FIGURES:
        terminalreporter.section("reliability figures")
        for row in sorted(FIGURES):
            terminalreporter.write_line(f"{row}: {FIGURES[row]}")


@pytest.fixture(autouse=True)
def _fail_postgres_only_tests_on_sqlite(request: pytest.FixtureRequest) -> None:
    """Tests marked postgres_only fail loudly on SQLite instead of passing vacuously."""
    if request.node.get_closest_marker("postgres_only") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail(
            "needs PostgreSQL: run with DATABASE_URL=postgres://... (make test-postgres), or "
            'deselect with -m "not postgres_only" (make test-sqlite does)'
        )


@pytest.fixture(scope="session")
def gunicorn_factory(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Gunicorn]]:
    """start(workers=3, **env) -> a running gunicorn on the test database; all stopped at the end.

    Stopped before pytest-django drops the test database (this fixture depends on its setup),
    so no worker still holds a connection to it.
    """
    from django.db import connection

    servers: list[Gunicorn] = []
    static_root = tmp_path_factory.mktemp("static")
    collected = False

    def start(*, workers: int = 3, **env: str) -> Gunicorn:
        nonlocal collected
        if connection.vendor != "postgresql":
            pytest.fail("a live gunicorn needs the PostgreSQL test database (postgres_only)")
        url = database_url(connection.settings_dict)
        if not collected:
            # Pages need the hashed static files, as in production (DEBUG off).
            done = run_python(
                "manage.py", "collectstatic", "--noinput", "-v", "0",
                **server_env(url, STATIC_ROOT=str(static_root)),
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            collected = True
        env.setdefault("STATIC_ROOT", str(static_root))
        log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
        server = Gunicorn(env=server_env(url, **env), workers=workers, log_path=log_path)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def gunicorn(gunicorn_factory: Callable[..., Gunicorn]) -> Gunicorn:
    """The shared live server: 3 workers, limits off, default connection settings."""
    return gunicorn_factory(workers=3)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        default=None,
        help="write the browser tests' page screenshots to this folder (make screenshots)",
    )


@pytest.fixture(autouse=True)
def _empty_chart_cache() -> None:
    # Chart data is cached (LocMemCache lives as long as the process): each test starts cold.
    from django.core.cache import caches

    caches["charts"].clear()


@pytest.fixture(scope="module")
def site_data(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """tests/site_data.py, committed once for a module of read-only tests, removed after it.

    Committed (not rolled back) so that the live server's thread sees it too. The module's
    tests carry the `django_db` mark (so that pytest-django sets the test database up) and only
    read; nothing else runs while the data is there.
    """
    from django.core.cache import caches
    from django.db import connection

    from pulpanalytics import partitions
    from pulpanalytics.models import (
        Alert,
        Component,
        DailySummary,
        DataFile,
        LimitCounter,
        Report,
        System,
    )
    from tests.site_data import seed

    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        assert (
            connection.is_in_memory_db()
            if connection.vendor == "sqlite"
            else name.startswith("test_")
        ), f"refusing to seed {name}: not a test database"
        partitioned_days = set(partitions.existing_days())
        seed()
        yield
        # PostgreSQL: the partitions the seeding summarize made go too, so that the tests after
        # this module find the days as the migration left them (in the DEFAULT partition).
        for day in set(partitions.existing_days()) - partitioned_days:
            partitions.drop(day)
        Component.objects.all().delete()
        Report.objects.all().delete()
        System.objects.all().delete()
        DailySummary.objects.all().delete()
        # What summarize made besides the summaries.
        Alert.objects.all().delete()
        DataFile.objects.all().delete()
        # The seeding POSTs counted against the rate limits.
        LimitCounter.objects.all().delete()
        caches["default"].clear()
