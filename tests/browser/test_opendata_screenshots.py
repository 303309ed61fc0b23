"""Screenshots of a README badge (the SVG and the plugin page's badge section) and of the admin's
alert list: `make screenshots` writes them to docs/screenshots/ with the other pages."""

import datetime as dt
from collections.abc import Iterator

import pytest
from pytest_django import DjangoDbBlocker

from pulpanalytics import watchdog
from tests.browser.test_screenshots import folder, png_size  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.usefixtures("site_data", "alerts_and_staff"),
]

PASSWORD = "screenshot-only-password-0123"
FOUND_AT = dt.datetime(2026, 3, 2, 0, 31, tzinfo=dt.UTC)


def made_up_findings() -> list[watchdog.Finding]:
    """What the watchdog says about a week of a bigger fleet, then a core release that stopped
    reporting and a day the site was unreachable: its own messages, from summaries made up here."""

    def summary(systems: int, core: dict[str, int]) -> dict:
        xy = [{"version": v, "count": c} for v, c in core.items()]
        return {
            "systems": systems,
            "persistent_systems": systems - 20,
            "components": [{"name": "core", "xy": xy}],
        }

    steady = {"3.49": 420, "3.48": 260, "3.47": 90, "3.46": 60}
    week = [summary(850, steady)] * 7
    stopped = summary(790, {"3.49": 420, "3.48": 260, "3.47": 30, "3.46": 60})
    return [
        *watchdog.examine(dt.date(2026, 2, 26), stopped, week),
        *watchdog.examine(dt.date(2026, 2, 27), summary(790, {**steady, "3.47": 2}), week),
        *watchdog.examine(dt.date(2026, 2, 20), summary(412, steady), week),
    ]


@pytest.fixture(scope="module")
def alerts_and_staff(site_data: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """Alerts and a superuser, committed (the live server's thread reads them), then removed."""
    from django.contrib.auth.models import User
    from django.test import override_settings

    from pulpanalytics.models import Alert

    # Hashed as every test's PASSWORD_HASHERS (conftest.py) can check it.
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=hashers):
        User.objects.create_superuser("staff", "staff@example.org", PASSWORD)
        Alert.objects.bulk_create(
            Alert(date=f.date, kind=f.kind, message=f.message, found_at=FOUND_AT)
            for f in made_up_findings()
        )
        yield
        Alert.objects.all().delete()
        User.objects.all().delete()


def test_a_badge_and_the_plugin_pages_badge_section_have_screenshots(tab, folder):  # noqa: F811
    tab.open("/badges/core.svg")
    tab.page.locator("svg").screenshot(path=folder / "badge.png")
    width, height = png_size(folder / "badge.png")
    assert height == 20 and 100 < width < 250
    # A bare SVG document names no icon, so Chromium asks for /favicon.ico, which is a 404.
    assert tab.problems == [
        "console error: Failed to load resource: the server responded with a status of 404 "
        "(Not Found)"
    ]
    tab.problems.clear()
    tab.open("/plugins/core/")
    section = tab.page.locator("section.badge")
    assert "[![core installations](" in section.inner_text()
    section.screenshot(path=folder / "badge-snippet.png")
    assert tab.page.locator("section.badge img").evaluate("img => img.naturalWidth") > 100
    assert tab.problems == []


def test_the_admin_alert_list_has_a_screenshot(tab, folder):  # noqa: F811
    tab.open("/admin/login/?next=/admin/pulpanalytics/alert/")
    tab.page.fill("#id_username", "staff")
    tab.page.fill("#id_password", PASSWORD)
    tab.page.click("input[type=submit]")
    tab.settle()
    assert tab.page.url.endswith("/admin/pulpanalytics/alert/")
    rows = tab.page.locator("#result_list tbody tr")
    assert rows.count() == 3
    assert "Summaries are stale" in tab.page.locator(".messagelist").inner_text()
    tab.page.screenshot(path=folder / "admin-alerts.png", full_page=True)
    assert png_size(folder / "admin-alerts.png")[0] == 1280
    assert tab.problems == []
