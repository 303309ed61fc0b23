"""Browser tests: Debian's headless Chromium (never a downloaded browser) through Playwright,
against pytest-django's live server with a strict Content-Security-Policy."""

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Browser, Page

from bench.server import CHROMIUM, CHROMIUM_ARGS

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# What each chart Chart.js drew: labels, non-null values and whether the canvas has pixels.
DRAWN_CHARTS = """() => Object.fromEntries(
  Array.from(document.querySelectorAll(".canvas-box canvas")).map(c => {
  const chart = window.Chart && Chart.getChart(c);
  const pixels = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  return [c.id, {
    labels: chart ? chart.data.labels.length : 0,
    values: chart ? chart.data.datasets.reduce(
      (n, d) => n + d.data.filter(v => v !== null).length, 0) : 0,
    painted: pixels.some((v, i) => i % 4 === 3 && v > 0),
  }];
}))"""
CHARTS_SETTLED = """() => !document.getElementById("chart-specs")
  || ["drawn", "failed"].includes(document.documentElement.dataset.charts)"""


@pytest.fixture(scope="session")
def site_server(django_db_setup: None) -> Iterator[str]:
    """pytest-django's live server (the LiveServer that its live_server fixture yields), with
    the product's own Content-Security-Policy (app/settings.py): any inline script, inline
    style or request to another host shows up as a console error and fails a test.

    Started here rather than through the live_server fixture: a test that uses live_server is
    made transactional, and its database is flushed after it, while these tests share one data
    set committed per module (conftest.site_data). The host, localhost, is in ALLOWED_HOSTS.
    """
    from pytest_django.live_server_helper import LiveServer

    assert "pulpanalytics.middleware.FixedPolicyCSPMiddleware" in settings.MIDDLEWARE
    server = LiveServer("localhost")
    yield server.url
    server.stop()


# The demo fleet of the browser tests: `manage.py simulate_fleet` with fewer days and systems than
# its defaults (a few seconds, once per session), still more versions, plugins and PostgreSQL
# versions than a chart shows at once.
DEMO_FLEET = {"days": 100, "systems": 500, "seed": 1, "end": dt.date(2026, 6, 30)}


@pytest.fixture(scope="session")
def demo_fleet_rows(django_db_setup: None, django_db_blocker) -> dict[str, list[dict]]:
    """The demo fleet, simulated through ingest and summarized once per session: its summaries
    and chart points (all that pages and the API read), kept here; the database is left empty."""
    from django.core.cache import caches

    from pulpanalytics import fleet, summarize
    from pulpanalytics.models import ChartPoint, Component, DailySummary, Report, System

    with django_db_blocker.unblock():
        _refuse_a_database_that_is_not_for_tests()
        assert fleet.database_is_empty()
        fleet.simulate(**DEMO_FLEET)
        day_after = DEMO_FLEET["end"] + dt.timedelta(days=1)
        summarize.run(now=dt.datetime.combine(day_after, dt.time(12), tzinfo=dt.UTC))
        rows = {
            "summaries": list(DailySummary.objects.values()),
            "points": list(ChartPoint.objects.values()),
        }
        for model in (ChartPoint, Component, Report, System, DailySummary):
            model.objects.all().delete()
        caches["default"].clear()
    return rows


def _refuse_a_database_that_is_not_for_tests() -> None:
    connection = connections["default"]
    name = connection.settings_dict["NAME"]
    assert (
        connection.is_in_memory_db() if connection.vendor == "sqlite" else name.startswith("test_")
    ), f"refusing to write to {name}: not a test database"


@pytest.fixture(scope="module")
def demo_fleet(demo_fleet_rows: dict[str, list[dict]], django_db_blocker) -> Iterator[None]:
    """The demo fleet's summaries and points, committed for a module of read-only tests (so
    the live server's thread sees them), removed after it."""
    from django.core.cache import caches

    from pulpanalytics.models import ChartPoint, DailySummary

    with django_db_blocker.unblock():
        _refuse_a_database_that_is_not_for_tests()
        DailySummary.objects.bulk_create(
            DailySummary(**row) for row in demo_fleet_rows["summaries"]
        )
        ChartPoint.objects.bulk_create(ChartPoint(**row) for row in demo_fleet_rows["points"])
        caches["charts"].clear()
        yield
        ChartPoint.objects.all().delete()
        DailySummary.objects.all().delete()
        caches["charts"].clear()


@pytest.fixture(scope="session")
def browser(site_server: str) -> Iterator[Browser]:
    """Headless Chromium; it closes before the live server stops (it depends on it), so no
    keep-alive connection outlives the server."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop registered as running in this thread, and
    # Django then refuses database calls here (the tests' own transactions and the data set's
    # setup), though nothing runs concurrently: these tests make no async calls.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
            # Django keys connections by context, and the running loop is another context: the
            # tests run meanwhile opened a connection of their own. Close it, and the one from
            # before, or PostgreSQL refuses to drop the test database at the end.
            connections.close_all()
        connections.close_all()
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@dataclass
class Tab:
    """One browser page on the live server that records everything that went wrong."""

    page: Page
    base: str
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.settle()

    def settle(self) -> None:
        self.page.wait_for_load_state("load")
        self.page.wait_for_function(CHARTS_SETTLED, timeout=10_000)

    def charts(self) -> dict[str, dict]:
        return self.page.evaluate(DRAWN_CHARTS)

    def labels(self, canvas: str) -> list[str]:
        return self.page.evaluate(f"() => Chart.getChart('{canvas}').data.labels")

    def data(self, canvas: str) -> list[list]:
        return self.page.evaluate(
            f"() => Chart.getChart('{canvas}').data.datasets.map(d => d.data)"
        )


def open_tab(browser: Browser, base: str, **options: object) -> Tab:
    context = browser.new_context(**options)
    page = context.new_page()
    tab = Tab(page=page, base=base)
    page.on(
        "console",
        lambda message: (
            message.type in {"error", "warning"}
            and tab.problems.append(f"console {message.type}: {message.text}")
        ),
    )
    page.on("pageerror", lambda error: tab.problems.append(f"page error: {error}"))
    # A request the browser gave up because the page was left (a click on a link before the
    # favicon arrived) is no failure of the site.
    page.on(
        "requestfailed",
        lambda req: req.failure == "net::ERR_ABORTED" or tab.problems.append(f"failed: {req.url}"),
    )
    page.on("request", lambda req: tab.requests.append(req.url))
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and tab.problems.append(f"HTTP {response.status}: {response.url}")
        ),
    )
    return tab


@pytest.fixture
def tab(browser: Browser, site_server: str) -> Iterator[Tab]:
    opened = open_tab(browser, site_server, viewport=DESKTOP)
    yield opened
    opened.page.context.close()


@pytest.fixture
def phone_tab(browser: Browser, site_server: str) -> Iterator[Tab]:
    opened = open_tab(browser, site_server, viewport=PHONE, device_scale_factor=1)
    yield opened
    opened.page.context.close()
