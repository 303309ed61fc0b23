"""The watchdog (README "Watchdog"): reports_drop and version_drop found by summarize in each
day it summarizes and kept, stale_summary live; in the API, /metrics, the admin and the mail."""

import datetime as dt
import json

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail

from pulpanalytics import watchdog
from pulpanalytics.models import Alert, DailySummary
from tests.helpers import parse_metrics, system_id

TOKEN = "scrape-token-for-alert-tests"
pytestmark = pytest.mark.django_db

COMPUTED = dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.UTC)
FIRST = dt.date(2026, 3, 1)
DAY = FIRST + dt.timedelta(days=7)  # the day examined: 7 summaries before it


def summary(day: dt.date, *, systems: int, persistent: int | None = None, core: dict) -> dict:
    """A stored summary with the numbers the watchdog reads (core: X.Y -> persistent systems)."""
    xy = [{"version": version, "count": count} for version, count in core.items()]
    return {
        "date": day.isoformat(),
        "systems": systems,
        "new_systems": 0,
        "persistent_systems": systems if persistent is None else persistent,
        "components": [{"name": "core", "systems": sum(core.values()), "xy": xy, "xyz": []}],
    }


def store(day: dt.date, **numbers) -> None:
    text = json.dumps(summary(day, **numbers))
    DailySummary.objects.create(date=day, json=text, computed_at=COMPUTED)


def baseline(days: int = 7, *, systems: int = 100, core: dict | None = None) -> None:
    """`days` summaries before DAY (gaps allowed: only their order counts)."""
    for number in range(days):
        store(DAY - dt.timedelta(days=2 * (number + 1)), systems=systems, core=core or {})


def examine(**numbers) -> list[watchdog.Finding]:
    return watchdog.examine(DAY, summary(DAY, **numbers), watchdog.baseline_before(DAY))


def kinds(findings: list[watchdog.Finding]) -> list[str]:
    return [finding.kind for finding in findings]


# --- reports_drop ---


def test_a_day_with_fewer_than_70_percent_of_the_median_systems_is_a_reports_drop():
    baseline(systems=100)
    (found,) = examine(systems=69, core={})
    assert found.kind == "reports_drop"
    assert found.date == DAY
    assert "69 systems" in found.message and "median" in found.message and "(100)" in found.message


def test_a_day_at_70_percent_of_the_median_is_no_reports_drop():
    baseline(systems=100)
    assert examine(systems=70, core={}) == []


def test_the_drop_ratio_is_a_setting(settings):
    settings.ALERT_DROP_RATIO = 0.5
    baseline(systems=100)
    assert examine(systems=69, core={}) == []
    assert kinds(examine(systems=49, core={})) == ["reports_drop"]


def test_no_drop_is_found_before_seven_summaries_exist():
    baseline(days=6, systems=100)
    assert examine(systems=0, core={}) == []


def test_the_median_takes_the_seven_latest_summaries_before_the_day_whatever_their_dates():
    baseline(systems=100)
    # An older, much bigger fleet is not in the median.
    for number in range(7):
        store(FIRST - dt.timedelta(days=30 + number), systems=10_000, core={})
    assert examine(systems=80, core={}) == []


# --- version_drop ---

STEADY = {"3.46": 60, "3.45": 30, "3.44": 10}


def test_a_core_release_that_stopped_reporting_is_a_version_drop():
    baseline(systems=100, core=STEADY)
    # 3.45 fell from 30 to 10 while the fleet held (90 persistent of a median of 100).
    found = examine(systems=90, core={"3.46": 70, "3.45": 10, "3.44": 10})
    assert kinds(found) == ["version_drop"]
    assert "core 3.45" in found[0].message
    assert "10 persistent systems" in found[0].message and "median 30" in found[0].message


def test_a_release_that_vanished_is_a_version_drop():
    baseline(systems=100, core=STEADY)
    found = examine(systems=95, core={"3.46": 85, "3.44": 10})
    assert kinds(found) == ["version_drop"]
    assert "core 3.45: 0 persistent systems" in found[0].message


def test_a_release_at_half_its_median_is_no_version_drop():
    baseline(systems=100, core=STEADY)
    assert examine(systems=100, core={"3.46": 75, "3.45": 15, "3.44": 10}) == []


def test_a_release_below_ten_systems_on_one_of_the_seven_days_is_not_watched():
    baseline(systems=100, core={"3.46": 91, "3.45": 9})
    assert examine(systems=100, core={"3.46": 100}) == []


def test_no_version_drop_when_the_whole_fleet_dropped():
    baseline(systems=100, core=STEADY)
    # 89 persistent of a median of 100: the reports dropped, not one release.
    found = examine(systems=89, core={"3.46": 79, "3.44": 10})
    assert kinds(found) == []
    found = examine(systems=60, core={"3.46": 50, "3.44": 10})
    assert kinds(found) == ["reports_drop"]


def test_a_version_drop_below_the_public_minimum_shows_no_count(settings):
    settings.PUBLIC_MIN_COUNT = 5
    baseline(systems=100, core=STEADY)
    (found,) = examine(systems=95, core={"3.46": 82, "3.45": 3, "3.44": 10})
    assert "core 3.45: fewer than 5 persistent systems" in found.message


# --- found by summarize, kept, mailed ---


def summarize_days(report_on, summarize_at, systems_per_day: list[int]) -> list[str]:
    """Reports of systems 0..n-1 on consecutive days from FIRST, then `manage.py summarize`."""
    for offset, count in enumerate(systems_per_day):
        day = FIRST + dt.timedelta(days=offset)
        for number in range(count):
            report_on(day, system_id(number))
    end = FIRST + dt.timedelta(days=len(systems_per_day))
    return summarize_at(dt.datetime.combine(end, dt.time(1), tzinfo=dt.UTC))


def test_summarize_keeps_the_drops_of_the_days_it_summarizes_and_logs_them(report_on, summarize_at):
    lines = summarize_days(report_on, summarize_at, [10] * 7 + [6, 10])
    alerts = list(Alert.objects.values_list("date", "kind"))
    assert alerts == [(DAY, "reports_drop")]
    assert any(line.startswith(f"Alert reports_drop on {DAY}: 6 systems") for line in lines)
    assert lines[-1] == "Summarized 9 days; pruned 0 raw systems"


def test_summarize_finds_no_drop_in_a_steady_fleet(report_on, summarize_at):
    summarize_days(report_on, summarize_at, [10] * 9)
    assert not Alert.objects.exists()


def test_re_summarizing_a_day_replaces_its_alerts(report_on, summarize_at):
    summarize_days(report_on, summarize_at, [10] * 7 + [6])
    assert Alert.objects.count() == 1
    for number in range(6, 10):  # the missing reports arrive late (as an import would bring)
        report_on(DAY, system_id(number))
    summarize_at(dt.datetime(2026, 3, 9, 2, tzinfo=dt.UTC), "--date", DAY.isoformat())
    assert not Alert.objects.exists()


def test_new_alerts_are_mailed_to_the_admins_when_mail_is_configured(
    report_on, summarize_at, settings
):
    settings.ADMINS = [("Ops", "ops@example.org")]
    settings.EMAIL_HOST = "smtp.example.org"
    summarize_days(report_on, summarize_at, [10] * 7 + [6])
    (sent,) = mail.outbox
    assert sent.to == ["ops@example.org"]
    assert "reports_drop" in sent.subject
    assert f"{DAY} reports_drop: 6 systems" in sent.body
    # Summarizing again finds nothing new: no second mail.
    summarize_at(dt.datetime(2026, 3, 9, 2, tzinfo=dt.UTC), "--date", DAY.isoformat())
    assert len(mail.outbox) == 1


def test_nothing_is_mailed_without_a_mail_server(report_on, summarize_at, settings):
    settings.ADMINS = [("Ops", "ops@example.org")]
    settings.EMAIL_HOST = ""
    summarize_days(report_on, summarize_at, [10] * 7 + [6])
    assert Alert.objects.count() == 1
    assert mail.outbox == []


# --- stale_summary ---


def test_a_summary_is_stale_six_hours_after_the_day_after_it_has_ended():
    store(dt.date(2026, 3, 1), systems=1, core={})
    # 2026-03-02 has ended at 2026-03-03 00:00; it is overdue from 06:00.
    assert watchdog.stale_summary(dt.datetime(2026, 3, 3, 6, tzinfo=dt.UTC)) is None
    stale = watchdog.stale_summary(dt.datetime(2026, 3, 3, 6, 1, tzinfo=dt.UTC))
    assert (stale.kind, stale.date) == ("stale_summary", dt.date(2026, 3, 2))
    assert "2026-03-01" in stale.message


def test_the_stale_hours_are_a_setting(settings):
    settings.SUMMARY_STALE_HOURS = 12
    store(dt.date(2026, 3, 1), systems=1, core={})
    assert watchdog.stale_summary(dt.datetime(2026, 3, 3, 11, tzinfo=dt.UTC)) is None


def test_nothing_is_stale_before_the_first_summary():
    assert watchdog.stale_summary(dt.datetime(2026, 3, 3, tzinfo=dt.UTC)) is None


# --- where alerts show ---


def test_the_alert_api_lists_every_alert_newest_first_with_the_live_stale_one(client):
    store(dt.date(2026, 3, 1), systems=1, core={})
    for day, kind in (
        (dt.date(2026, 2, 1), "reports_drop"),
        (dt.date(2026, 2, 20), "version_drop"),
    ):
        Alert.objects.create(date=day, kind=kind, message=f"{kind} message", found_at=COMPUTED)
    with time_machine.travel(dt.datetime(2026, 3, 5, tzinfo=dt.UTC), tick=False):
        response = client.get("/api/v1/alerts/")
    assert response.status_code == 200
    assert "max-age=300" in response["Cache-Control"]
    alerts = response.json()["alerts"]
    assert [(a["date"], a["kind"]) for a in alerts] == [
        ("2026-03-02", "stale_summary"),
        ("2026-02-20", "version_drop"),
        ("2026-02-01", "reports_drop"),
    ]
    assert alerts[1]["message"] == "version_drop message"


def test_the_alert_api_is_empty_on_an_empty_site(client):
    assert client.get("/api/v1/alerts/").json() == {"alerts": []}


def test_metrics_show_the_alerts_of_the_newest_day_and_a_stale_summary_per_kind(client, settings):
    settings.METRICS_TOKEN = TOKEN
    store(dt.date(2026, 3, 1), systems=1, core={})
    store(dt.date(2026, 3, 2), systems=1, core={})
    Alert.objects.create(
        date=dt.date(2026, 3, 1), kind="reports_drop", message="a", found_at=COMPUTED
    )
    Alert.objects.create(
        date=dt.date(2026, 3, 2), kind="version_drop", message="b", found_at=COMPUTED
    )
    Alert.objects.create(
        date=dt.date(2026, 3, 2), kind="version_drop", message="c", found_at=COMPUTED
    )

    def scrape(moment: dt.datetime) -> dict[str, float]:
        with time_machine.travel(moment, tick=False):
            response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        samples = parse_metrics(response.content.decode())
        return {
            dict(labels)["kind"]: value
            for (name, labels), value in samples.items()
            if name == "pulpanalytics_alerts"
        }

    fresh = dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC)
    assert scrape(fresh) == {"reports_drop": 0, "version_drop": 2, "stale_summary": 0}
    late = dt.datetime(2026, 3, 4, 7, tzinfo=dt.UTC)
    assert scrape(late) == {"reports_drop": 0, "version_drop": 2, "stale_summary": 1}


def test_the_admin_lists_alerts_read_only_and_warns_of_a_stale_summary(client):
    admin = User.objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(admin)
    store(dt.date(2026, 3, 1), systems=1, core={})
    alert = Alert.objects.create(
        date=dt.date(2026, 3, 1),
        kind="version_drop",
        message="core 3.45 dropped",
        found_at=COMPUTED,
    )
    with time_machine.travel(dt.datetime(2026, 3, 9, tzinfo=dt.UTC), tick=False):
        listing = client.get("/admin/pulpanalytics/alert/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "core 3.45 dropped" in page
    assert "Summaries are stale (stale_summary): no summary of 2026-03-02 yet" in page
    assert client.get("/admin/pulpanalytics/alert/add/").status_code == 403
    change = client.post(f"/admin/pulpanalytics/alert/{alert.pk}/change/", {"message": "x"})
    assert change.status_code == 403
    assert Alert.objects.get().message == "core 3.45 dropped"
