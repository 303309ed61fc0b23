"""manage.py simulate_fleet: the demo fleet goes in through ingest, is deterministic for a seed,
looks like the Pulp world, reports progress, and never touches a database that holds data."""

import datetime as dt
import json
import random
import uuid
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import CommandError
from django.db.models import F

from pulpanalytics import fleet, ingest
from pulpanalytics.management.commands.simulate_fleet import Command
from pulpanalytics.models import Component, DailySummary, Report, System
from pulpanalytics.system_ids import hash_system_id
from pulpanalytics.telemetry_pb2 import Telemetry
from tests.helpers import FLEET_END, FLEET_NOW, simulate

pytestmark = pytest.mark.django_db

END, NOW = FLEET_END, FLEET_NOW
SMALL = ["--days", "10", "--systems", "40", "--end", "2026-01-31"]
SHAPE = ["--days", "30", "--systems", "120", "--end", "2026-01-31"]


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def keep_raw_rows(settings) -> None:
    settings.RAW_RETENTION_DAYS = 60  # nothing of a history ending END is pruned at NOW


@pytest.fixture
def sent(monkeypatch) -> list[tuple[Telemetry, dt.datetime, str]]:
    """Every report the simulator hands to the real ingest(): (decoded, received_at, outcome)."""
    seen: list[tuple[Telemetry, dt.datetime, str]] = []

    def spy(*, body: bytes, received_at: dt.datetime) -> ingest.Outcome:
        outcome = ingest.ingest(body=body, received_at=received_at)
        seen.append((Telemetry.FromString(body), received_at, outcome.kind))
        return outcome

    monkeypatch.setattr(fleet, "ingest", spy)
    return seen


def database_content() -> dict:
    """Everything stored, without database ids (they differ between runs)."""
    reports = Report.objects.values_list("system__system_hash", "day", "age_days", "data")
    return {
        "systems": sorted(System.objects.values_list("system_hash", "first_seen", "last_seen")),
        "reports": sorted((h, d, a, json.dumps(data, sort_keys=True)) for h, d, a, data in reports),
        "components": sorted(
            Component.objects.values_list("report__system__system_hash", "day", "name", "version")
        ),
        "summaries": list(DailySummary.objects.order_by("date").values_list("date", "json")),
    }


def empty_the_database() -> None:
    Component.objects.all().delete()
    Report.objects.all().delete()
    System.objects.all().delete()
    DailySummary.objects.all().delete()


def summary(day: dt.date) -> dict:
    return json.loads(DailySummary.objects.get(date=day).json)


def core_xy(report: Telemetry) -> tuple[int, int]:
    core = next(c.version for c in report.components if c.name == "core")
    return fleet.version_tuple(core)[:2]


def test_every_simulated_report_goes_through_ingest_and_is_stored_as_sent(sent, keep_raw_rows):
    lines = simulate(*SMALL)
    stored = [(report, moment) for report, moment, kind in sent if kind == "stored"]
    assert Counter(kind for _, _, kind in sent) == {"stored": 232, "duplicate": 4}
    assert lines[-2] == (
        "Simulated 10 days (2026-01-22 to 2026-01-31) of 40 installations: "
        "232 reports stored, 4 same-day repeats answered as duplicates"
    )
    # Nothing but ingest wrote: one raw row per stored report, as the report says.
    assert Report.objects.count() == 232
    assert System.objects.count() == 40
    for report, moment in stored:
        assert ingest.development_version(ingest.parse_report(report.SerializeToString())) is None
        row = Report.objects.get(
            system__system_hash=hash_system_id(report.system_id), day=moment.date()
        )
        assert row.data == ingest.report_data(report)
        assert dict(row.components.values_list("name", "version")) == {
            c.name: c.version for c in report.components
        }
    versions = Component.objects.values_list("version", flat=True)
    assert all(ingest.GA_VERSION_RE.match(version) for version in versions)


def test_each_day_is_summarized_from_exactly_the_reports_stored_that_day(sent, keep_raw_rows):
    lines = simulate(*SMALL)
    assert lines[-1] == "Summarized 10 days; pruned 0 raw systems"
    per_day = Counter(moment.date() for _, moment, kind in sent if kind == "stored")
    assert DailySummary.objects.count() == 10
    for offset in range(10):
        day = END - dt.timedelta(days=offset)
        day_summary = summary(day)
        assert day_summary["systems"] == per_day[day] == Report.objects.filter(day=day).count()
        # Every persistent system runs core (the first day has none: every system is new).
        core = [c["systems"] for c in day_summary["components"] if c["name"] == "core"]
        assert sum(core) == day_summary["persistent_systems"]


def test_summarize_prunes_the_raw_rows_older_than_the_retention():
    # Ten days later, 2026-01-22..26 are past RAW_RETENTION_DAYS=14; the days since are empty.
    lines = simulate(*SMALL, now=NOW + dt.timedelta(days=9))
    assert lines[-1] == "Summarized 19 days; pruned 90 raw systems"
    assert Report.objects.order_by("day").first().day == dt.date(2026, 1, 27)
    assert DailySummary.objects.count() == 19
    assert summary(dt.date(2026, 1, 22))["systems"] == 15  # its summary outlives its raw rows
    assert summary(dt.date(2026, 2, 9))["systems"] == 0
    assert System.objects.count() == 40


def test_the_same_seed_gives_the_same_database_and_another_seed_does_not(keep_raw_rows):
    simulate(*SMALL, "--seed", "7")
    first = database_content()
    empty_the_database()
    simulate(*SMALL, "--seed", "7")
    second = database_content()
    empty_the_database()
    simulate(*SMALL, "--seed", "8")
    other = database_content()

    assert len(first["reports"]) == 203
    assert first == second
    assert other["summaries"] != first["summaries"]
    assert not {h for h, *_ in other["systems"]} & {h for h, *_ in first["systems"]}


def test_the_fleet_of_seed_1_looks_like_the_pulp_world(sent, keep_raw_rows):
    simulate(*SHAPE)
    last = summary(END)
    # A growing fleet: 37 systems on the first day, 82 on the last.
    assert summary(END - dt.timedelta(days=29))["systems"] == 37
    assert (last["systems"], last["new_systems"], last["persistent_systems"]) == (82, 4, 78)

    # Core on every persistent system, spread over many X.Y, the newest on the most systems.
    core = next(c for c in last["components"] if c["name"] == "core")
    assert core["systems"] == 78
    assert len(core["xy"]) == 13
    assert core["xy"][0] == {"version": "3.60", "count": 34}  # 44 % on the newest X.Y
    assert max(core["xy"], key=lambda entry: entry["count"]) == core["xy"][0]

    # Plugins by popularity: file, rpm and container common; cookbook and npm rare.
    plugins = {c["name"]: c["systems"] for c in last["components"]}
    assert plugins == {
        "ansible": 24,
        "certguard": 6,
        "container": 34,
        "cookbook": 2,
        "core": 78,
        "deb": 10,
        "file": 46,
        "galaxy": 5,
        "gem": 4,
        "maven": 5,
        "npm": 1,
        "ostree": 5,
        "python": 23,
        "rpm": 34,
    }

    # One-day (CI) installs, and installations that reported on several days, then stopped for
    # good (trials and churn).
    one_day = System.objects.filter(first_seen=F("last_seen"), last_seen__lt=END)
    churned = System.objects.exclude(first_seen=F("last_seen")).filter(
        last_seen__lt=END - dt.timedelta(days=7)
    )
    assert (System.objects.count(), one_day.count(), churned.count()) == (120, 19, 7)

    # Most report every day, some skip days; some upgrade core within the month.
    stored = [(report, moment.date()) for report, moment, kind in sent if kind == "stored"]
    days_of, cores_of = defaultdict(set), defaultdict(set)
    for report, day in stored:
        days_of[report.system_id].add(day)
        cores_of[report.system_id].add(core_xy(report))
    skipping = [d for d in days_of.values() if len(d) < (max(d) - min(d)).days + 1]
    upgraded = [versions for versions in cores_of.values() if len(versions) > 1]
    assert (len(skipping), len(upgraded)) == (36, 8)

    # Old clients (pulpcore before 3.22) send neither field 5 nor field 6; everyone else both.
    old = {report.system_id for report, _ in stored if core_xy(report) < (3, 22)}
    assert len(old) == 2
    for report, _ in stored:
        assert report.HasField("postgresql_version") == (core_xy(report) >= (3, 22))
        assert report.HasField("rbac_stats") == (core_xy(report) >= (3, 23))
    assert last["postgresql_versions"][0] == {"version": 170002, "count": 2}
    assert {"version": 0, "count": 2} in last["postgresql_versions"]  # old clients and a zero

    # RBAC numbers are sent even when zero: most have no domains (the 2 old clients send none).
    domains = {e["number"]: e["count"] for e in last["rbac"] if e["measure"] == "domains"}
    assert domains[0] == 69
    assert sum(domains.values()) == 77

    # Workers and content apps: a few per installation, on one or a few hosts.
    assert last["online_workers"] == {
        "processes_avg": 5.5385,
        "hosts_avg": 1.641,
        "processes_p50": 4,
        "processes_p90": 15,
        "hosts_p50": 1,
        "hosts_p90": 4,
    }
    apps = last["online_content_apps"]
    assert (apps["processes_avg"], apps["hosts_avg"]) == (2.4615, 1.2821)


def test_installations_on_pulpcore_3_25_or_later_send_a_uuid7_of_their_creation(sent):
    simulate(*SMALL)
    versions = Counter(uuid.UUID(report.system_id).version for report, _, _ in sent)
    assert versions == {7: 211, 4: 25}
    for report, received_at, _ in sent:
        system_id = uuid.UUID(report.system_id)
        if system_id.version == 7:
            created = dt.datetime.fromtimestamp((system_id.int >> 80) / 1000, tz=dt.UTC)
            assert created <= received_at


def test_without_a_terminal_progress_is_about_ten_plain_lines():
    lines = simulate(*SMALL)
    assert lines[0] == "Day 1/10 (2026-01-22): 15 systems reported; 15 reports stored so far"
    assert lines[9] == "Day 10/10 (2026-01-31): 30 systems reported; 232 reports stored so far"
    assert [line.split(" ")[1] for line in lines[:10]] == [f"{n}/10" for n in range(1, 11)]
    assert len(lines) == 12


def test_on_a_terminal_progress_is_a_bar_redrawn_in_place():
    out = Terminal()
    simulate(*SMALL, out=out)
    text = out.getvalue()
    assert text.count("\r[") == 10
    assert "\r[" + "###" + "." * 27 + "] day 1/10 2026-01-22: 15 reports" in text
    assert "\r[" + "#" * 30 + "] day 10/10 2026-01-31: 232 reports\n" in text
    assert text.endswith("\r\x1b[KSummarized 10 days; pruned 0 raw systems\n")


def test_verbosity_0_prints_only_the_two_last_lines():
    lines = simulate(*SMALL, "--verbosity", "0")
    assert len(lines) == 2
    assert lines[1] == "Summarized 10 days; pruned 0 raw systems"


def test_if_empty_does_nothing_on_a_filled_database():
    simulate(*SMALL)
    before = database_content()
    lines = simulate(*SMALL, "--seed", "2", "--if-empty")
    assert lines == ["The database already holds data; no fleet simulated"]
    assert database_content() == before


def test_a_real_report_makes_the_database_filled(post_at, telemetry):
    assert post_at(NOW, telemetry()).content == b"stored"
    lines = simulate(*SMALL, "--if-empty", now=NOW + dt.timedelta(days=1))
    assert lines == ["The database already holds data; no fleet simulated"]
    assert Report.objects.count() == 1


def test_a_filled_database_is_refused_without_if_empty():
    simulate(*SMALL)
    with pytest.raises(CommandError, match="already holds reports or summaries"):
        simulate(*SMALL, "--seed", "2")
    assert System.objects.count() == 40


def test_the_history_ends_yesterday_by_default():
    simulate("--days", "3", "--systems", "5")
    assert list(DailySummary.objects.order_by("date").values_list("date", flat=True)) == [
        dt.date(2026, 1, 29),
        dt.date(2026, 1, 30),
        dt.date(2026, 1, 31),
    ]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (["--end", "2026-02-01"], "--end 2026-02-01 is not before today"),
        (["--end", "31.01.2026"], "not a date in the form YYYY-MM-DD"),
        (["--days", "0"], "invalid positive value: '0'"),
        (["--systems", "many"], "invalid positive value: 'many'"),
    ],
)
def test_bad_options_fail_with_a_clear_message(argument, message):
    with pytest.raises(CommandError, match=message):
        simulate(*argument)
    assert not System.objects.exists()


def test_help_names_every_option_and_what_the_command_is_for():
    text = Command().create_parser("manage.py", "simulate_fleet").format_help()
    assert "same ingest code as POST /" in text
    for option in ("--days", "--systems", "--seed", "--end", "--if-empty"):
        assert option in text
    assert "(default 1000)" in text


def test_a_minor_release_is_followed_by_its_patch_releases():
    releases = fleet.Releases(fleet.LINES[0], random.Random(1), until=30)
    first = releases.starts[0]
    assert releases.newest(first) == "3.14.0"
    assert releases.newest(first - 1) == "3.14.0"  # before the history: the oldest release
    newest = releases.newest(30)
    assert fleet.version_tuple(newest)[:2] == (3, 14 + len(releases.starts) - 1)
    patched = releases.newest_patch("3.14.0", releases.starts[1])
    assert patched.startswith("3.14.") and patched != "3.14.0"
    assert releases.newest_patch("3.14.99", 30) == "3.14.99"  # never a downgrade


def test_uuid7_holds_the_creation_time_in_its_first_48_bits():
    created = dt.datetime(2025, 6, 1, 8, 30, tzinfo=dt.UTC)
    system_id = uuid.UUID(fleet.uuid7(created, random.Random(3)))
    assert system_id.version == 7
    assert system_id.variant == uuid.RFC_4122
    assert system_id.int >> 80 == int(created.timestamp() * 1000)


def test_some_long_lived_installations_fall_silent_for_weeks_and_come_back(monkeypatch):
    plan = fleet.Fleet(days=400, systems=1000, seed=1, end=END)
    silent = [i for i in plan.installs if i.silence]
    long_lived = [i for i in plan.installs if i.last - i.first > fleet.TRIAL_DAYS[1]]
    assert all(i.last - i.first > fleet.TRIAL_DAYS[1] for i in silent)  # no CI run, no trial
    assert (len(silent), len(long_lived)) == (103, 669)  # about SILENCE_SHARE of them
    for install in silent:
        start, end = install.silence
        assert install.first < start and 15 <= end - start <= 120
        assert not plan._reports_on(install, start, weekday=2)
        assert not plan._reports_on(install, end - 1, weekday=2)
    # Silences draw from an RNG of their own: without them, the plan is the same.
    monkeypatch.setattr(fleet, "SILENCE_SHARE", 0)
    quiet = fleet.Fleet(days=400, systems=1000, seed=1, end=END)
    assert not any(i.silence for i in quiet.installs)
    assert [(i.system_id, i.last) for i in quiet.installs] == [
        (i.system_id, i.last) for i in plan.installs
    ]
