"""Fleet dynamics (docs/design.md): returning, cohorts and the activity behind them, by hand
for a small fleet over four months; on SQLite and PostgreSQL."""

import csv
import datetime as dt
import importlib
import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command

from pulpanalytics import cohorts, summarize
from pulpanalytics.ingest import day_bit, ingest
from pulpanalytics.models import Component, DailySummary, Erasure, Report, System, SystemMonth
from pulpanalytics.system_ids import hash_system_id
from tests.helpers import build_telemetry, system_id

pytestmark = pytest.mark.django_db

D = dt.date
# Who reports when (2026). A returns after a silence; B is a two-day trial; C a one-day install
# (in no cohort); D comes back twice; E is new at the end of March; F's second day (04-20) is
# after the latest summarized day of most tests; G is forgotten in one test.
FLEET = {
    "A": [D(2026, 1, 5), D(2026, 1, 6), D(2026, 2, 10), D(2026, 4, 2)],
    "B": [D(2026, 1, 20), D(2026, 1, 21)],
    "C": [D(2026, 1, 31)],
    "D": [D(2026, 2, 1), D(2026, 3, 15), D(2026, 4, 10)],
    "E": [D(2026, 3, 30), D(2026, 3, 31), D(2026, 4, 1)],
    "F": [D(2026, 4, 3), D(2026, 4, 20)],
    "G": [D(2026, 1, 10), D(2026, 1, 11), D(2026, 3, 1)],
}
NOON_04_02 = dt.datetime(2026, 4, 2, 12, tzinfo=dt.UTC)
IDS = {name: system_id(number) for number, name in enumerate(FLEET, start=1)}


@pytest.fixture
def fleet(report_on) -> None:
    """Every report of FLEET through the ingest code, in the order they arrive."""
    sent = sorted((day, name) for name, days in FLEET.items() for day in days)
    for day, name in sent:
        report_on(day, IDS[name])


def active(through: D) -> dict[str, list[int]]:
    return {c.month.strftime("%Y-%m"): c.active for c in cohorts.compute(through)}


def test_ingest_keeps_each_day_of_each_month_as_one_bit(fleet):
    a = System.objects.get(system_hash=hash_system_id(IDS["A"]))
    assert sorted(a.months.values_list("month", "days")) == [
        (D(2026, 1, 1), 0b110_000),  # the 5th and the 6th
        (D(2026, 2, 1), 1 << 9),
        (D(2026, 4, 1), 0b10),
    ]
    # A repeat of a day already kept changes nothing.
    repeat = ingest(body=build_telemetry(IDS["A"]).SerializeToString(), received_at=NOON_04_02)
    assert repeat.kind == "duplicate"
    assert a.months.get(month=D(2026, 4, 1)).days == 0b10
    assert day_bit(D(2026, 1, 31)) == 1 << 30  # fits a 32-bit signed integer


def test_cohorts_by_hand(fleet):
    # Jan: A, B, G (C reported one day only); A back in Feb and Apr, G in Mar.
    assert active(D(2026, 4, 15)) == {
        "2026-01": [3, 1, 1, 1],
        "2026-02": [1, 1, 1],
        "2026-03": [1, 1],
        "2026-04": [0],  # F's second day is after the latest summarized day
    }
    assert active(D(2026, 4, 20))["2026-04"] == [1]


def test_reports_after_the_latest_summarized_day_do_not_count_yet(fleet):
    # On 04-01 only E has reported in April: A (04-02) and D (04-10) not yet.
    assert active(D(2026, 4, 1)) == {
        "2026-01": [3, 1, 1, 0],
        "2026-02": [1, 1, 0],
        "2026-03": [1, 1],
        "2026-04": [0],
    }
    # On 03-30 E has one day: in no cohort yet; on 03-31 it is.
    assert active(D(2026, 3, 30))["2026-03"] == [0]
    assert active(D(2026, 3, 31))["2026-03"] == [1]
    assert active(D(2026, 1, 20)) == {"2026-01": [2]}  # A and G; B's second day is the 21st


def test_forget_system_removes_a_system_from_every_cohort_at_once(fleet, client, summarize_at):
    summarize_at(dt.datetime(2026, 4, 16, 1, tzinfo=dt.UTC))
    assert client.get("/api/v1/cohorts/").json()["cohorts"][0] == {
        "month": "2026-01",
        "systems": 3,
        "active": [3, 1, 1, 1],
    }
    call_command("forget_system", IDS["G"])
    assert not SystemMonth.objects.filter(system__system_hash=hash_system_id(IDS["G"])).exists()
    assert Erasure.objects.get().systems == 1
    # The answer was cached for this version of the summaries; the deletion is a new version.
    assert client.get("/api/v1/cohorts/").json()["cohorts"][0] == {
        "month": "2026-01",
        "systems": 2,
        "active": [2, 1, 0, 1],
    }
    assert active(D(2026, 4, 15))["2026-01"] == [2, 1, 0, 1]


def test_returning_counts_previous_reports_however_old(fleet, settings):
    returning = {
        day: summarize.compute_summary(day)["returning"]
        for day in sorted({day for days in FLEET.values() for day in days})
    }
    assert {day: n for day, n in returning.items() if n} == {
        D(2026, 2, 10): 1,  # A, 35 days after 01-06
        D(2026, 3, 1): 1,  # G, 49 days after 01-11
        D(2026, 3, 15): 1,  # D, 42 days after 02-01
        D(2026, 4, 2): 1,  # A, 51 days after 02-10
        D(2026, 4, 10): 1,  # D, 26 days after 03-15
        D(2026, 4, 20): 1,  # F, 17 days after 04-03
    }
    # Raw rows are pruned after RAW_RETENTION_DAYS; the activity is kept with the registry.
    Component.objects.all().delete()
    Report.objects.filter(day__lt=D(2026, 4, 2)).delete()
    assert summarize.compute_summary(D(2026, 4, 2))["returning"] == 1
    assert summarize.compute_summary(D(2026, 4, 1))["returning"] == 0  # E: 03-31 was a report
    settings.GONE_AFTER_DAYS = 30
    assert summarize.compute_summary(D(2026, 4, 10))["returning"] == 0  # D: 26 days < 30


@pytest.mark.parametrize(("gap", "returning"), [(13, 0), (14, 1), (400, 1)])
def test_returning_starts_at_gone_after_days(report_on, gap, returning):
    day = D(2026, 3, 5)
    report_on(day - dt.timedelta(days=gap), IDS["A"])
    report_on(day, IDS["A"])
    report_on(day, IDS["B"])  # new that day: not returning
    assert summarize.compute_summary(day)["returning"] == returning


def test_the_migration_backfills_what_the_registry_and_raw_rows_know(fleet):
    expected = sorted(SystemMonth.objects.values_list("system_id", "month", "days"))
    SystemMonth.objects.all().delete()
    migration = importlib.import_module("pulpanalytics.migrations.0008_fleet_activity")
    migration.backfill(apps, None)
    assert sorted(SystemMonth.objects.values_list("system_id", "month", "days")) == expected
    # Without raw rows, first_seen and last_seen are what is left.
    SystemMonth.objects.all().delete()
    Component.objects.all().delete()
    Report.objects.all().delete()
    migration.backfill(apps, None)
    a = System.objects.get(system_hash=hash_system_id(IDS["A"]))
    assert sorted(a.months.values_list("month", "days")) == [
        (D(2026, 1, 1), 1 << 4),
        (D(2026, 4, 1), 1 << 1),
    ]


def test_the_cohorts_api_answers_json_csv_and_validators(fleet, client, summarize_at):
    assert client.get("/api/v1/cohorts/").json() == {"through": None, "cohorts": []}
    summarize_at(dt.datetime(2026, 4, 16, 1, tzinfo=dt.UTC))
    response = client.get("/api/v1/cohorts/")
    assert response.json() == {
        "through": "2026-04",
        "cohorts": [
            {"month": "2026-01", "systems": 3, "active": [3, 1, 1, 1]},
            {"month": "2026-02", "systems": 1, "active": [1, 1, 1]},
            {"month": "2026-03", "systems": 1, "active": [1, 1]},
            {"month": "2026-04", "systems": 0, "active": [0]},
        ],
    }
    again = client.get("/api/v1/cohorts/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    table = client.get("/api/v1/cohorts/", {"format": "csv"})
    assert table["Content-Disposition"] == 'attachment; filename="cohorts.csv"'
    rows = list(csv.reader(io.StringIO(table.content.decode())))
    assert rows[0] == ["Cohort", "Systems", "Month 0", "Month 1", "Month 2", "Month 3"]
    assert rows[1] == ["2026-01", "3", "3", "1", "1", "1"]
    assert rows[3] == ["2026-03", "1", "1", "1", "", ""]
    assert client.get("/api/v1/cohorts/", {"format": "xml"}).status_code == 400


def test_with_a_public_minimum_small_counts_are_withheld(fleet, client, summarize_at, settings):
    summarize_at(dt.datetime(2026, 4, 16, 1, tzinfo=dt.UTC))
    settings.PUBLIC_MIN_COUNT = 2
    assert client.get("/api/v1/cohorts/").json()["cohorts"][:2] == [
        {"month": "2026-01", "systems": 3, "active": [3, None, None, None]},
        {"month": "2026-02", "systems": None, "active": [None, None, None]},
    ]


def test_still_reporting_counts_finished_months_of_whole_cohorts(fleet):
    exact = cohorts.compute(D(2026, 4, 15))
    figures = cohorts.retention(exact, through=D(2026, 4, 15), smallest=1)
    # After 1 month: Jan (1 of 3) and Feb (1 of 1); March's next month, April, is not over.
    assert [(f.months, f.share, f.cohorts, f.systems) for f in figures] == [
        (1, 50.0, 2, 4),
        (3, None, 0, 0),
        (6, None, 0, 0),
        (12, None, 0, 0),
    ]
    on_the_last_day = cohorts.retention(exact, through=D(2026, 4, 30), smallest=1)
    assert on_the_last_day[1] == cohorts.Retention(3, 33.3, 1, 3)  # Jan: A in April
    assert cohorts.retention(exact, through=D(2026, 4, 15), smallest=5)[0].share is None


def test_the_fleet_page_shows_the_cohort_table_without_javascript(fleet, client, summarize_at):
    summarize_at(dt.datetime(2026, 4, 16, 1, tzinfo=dt.UTC))
    page = client.get("/fleet/").content.decode()
    assert "reported on at least two different days" in page
    assert '<th scope="row">2026-01</th><td>3</td><td class="shade-10">100.0%</td>' in page
    assert '<td class="shade-3">33.3%</td>' in page
    assert '<th scope="row">1 month</th><td>50.0%</td>' in page
    specs = json.loads(page.split('type="application/json">')[1].split("</script>")[0])
    assert [spec["canvas"] for spec in specs] == ["chart-joined-returning"]
    assert DailySummary.objects.count() > 100
    assert client.get("/fleet/?range=nonsense").status_code == 400


def test_ingest_writes_the_month_with_the_report_in_one_round_trip(report_on):
    from django.db import connection

    statements = []

    def note(execute, sql, params, many, context):
        statements.append(sql.split()[0])
        return execute(sql, params, many, context)

    report_on(D(2026, 3, 1), IDS["A"])
    with connection.execute_wrapper(note):
        report_on(D(2026, 3, 2), IDS["A"])
    # Not the savepoints: they are there because the test runs in a transaction.
    statements = [s for s in statements if s not in ("SAVEPOINT", "RELEASE")]
    if connection.vendor == "postgresql":
        # One call of the store function (migration 0011) writes them all.
        assert statements == ["SELECT"]
    else:
        # Registry, month, report, components.
        assert statements == ["INSERT"] * 4
    assert SystemMonth.objects.get().days == 0b11
