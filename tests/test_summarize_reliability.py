"""docs/reliability.md D1, D3-D8, E2-E4, H4: summarize and prune under repetition, concurrency,
late commits, random interleavings, time zones and calendar edges."""

import datetime as dt
import hashlib
import json
import math
import subprocess
import sys
from collections import defaultdict

import pytest
import time_machine
from django.db import IntegrityError, OperationalError, connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from pulpanalytics import ingest, summarize
from pulpanalytics.metrics.series import newest_first, xy
from pulpanalytics.models import Component, DailySummary, Report, System
from pulpanalytics.system_ids import hash_system_id
from tests.helpers import (
    ROOT,
    at,
    build_telemetry,
    database_url,
    manage,
    server_env,
    summary_part,
    system_id,
)


def summaries_hash() -> str:
    rows = DailySummary.objects.order_by("date").values_list("date", "json")
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


def post(day_or_moment, system: int, **fields) -> str:
    moment = day_or_moment if isinstance(day_or_moment, dt.datetime) else at(day_or_moment)
    body = build_telemetry(system_id(system), **fields).SerializeToString()
    return ingest.ingest(body=body, received_at=moment).message


@pytest.mark.django_db
def test_d1_summarizing_a_day_twice_gives_the_same_summary(summarize_at):
    day = dt.date(2026, 5, 10)
    for n in range(5):
        post(day - dt.timedelta(days=1), n)
        post(day, n, workers=(n, 1), components={"core": f"3.4{n}.0"})
    summarize_at(at(day + dt.timedelta(days=1), 1))
    first = summaries_hash()
    summarize_at(at(day + dt.timedelta(days=1), 2), "--date", day.isoformat())
    assert summaries_hash() == first
    assert DailySummary.objects.filter(date=day).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        DailySummary.objects.create(date=day, json="{}", computed_at=at(day))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_d3_a_second_concurrent_run_waits_for_nothing_and_exits_zero():
    """Real processes against PostgreSQL: while one run holds the lock, another does nothing."""
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    for n in range(3):
        post(at(yesterday, 3), n)
    env = server_env(database_url(connection.settings_dict), SUMMARIZE_GRACE_MINUTES="0")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [summarize.ADVISORY_LOCK_KEY])
    try:
        blocked = manage("summarize", **env)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [summarize.ADVISORY_LOCK_KEY])
    assert blocked.returncode == 0, blocked.stderr
    assert blocked.stdout.strip() == "Another summarize run holds the lock; nothing done"
    assert DailySummary.objects.count() == 0
    # Two runs started together: one summarizes, the other finds the lock or nothing to do.
    runs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "summarize"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    last_lines = sorted(out.strip().splitlines()[-1] for out, _ in outputs)
    assert last_lines[1] == "Summarized 1 day; pruned 0 raw systems"
    assert last_lines[0] in {
        "Another summarize run holds the lock; nothing done",
        "Summarized 0 days; pruned 0 raw systems",
    }
    assert list(DailySummary.objects.values_list("date", flat=True)) == [yesterday]


@pytest.mark.django_db
def test_d4_a_three_day_cron_outage_is_back_filled(summarize_at, client):
    start = dt.date(2026, 6, 1)
    for offset in (0, 1, 2, 4, 5, 6, 8):  # reports are missing on days 3 and 7
        for n in range(offset % 3 + 1):
            post(start + dt.timedelta(days=offset), n)
    summarize_at(at(start + dt.timedelta(days=2), 1))  # the cron ran once, then stopped
    assert DailySummary.objects.count() == 2
    lines = summarize_at(at(start + dt.timedelta(days=9), 0, 30))
    assert lines[-1] == "Summarized 7 days; pruned 0 raw systems"
    dates = list(DailySummary.objects.order_by("date").values_list("date", flat=True))
    assert dates == [start + dt.timedelta(days=offset) for offset in range(9)]
    gap = client.get("/api/v1/summaries/2026-06-04/")
    assert gap.status_code == 200
    assert gap.json()["systems"] == 0
    listing = client.get("/api/v1/summaries/?start=2026-06-01&end=2026-06-09").json()
    assert [s["systems"] for s in listing["summaries"]] == [1, 2, 3, 0, 2, 3, 1, 0, 3]


@pytest.mark.django_db
def test_d5_a_report_committed_after_midnight_is_counted_and_never_pruned_first(summarize_at):
    day = dt.date(2026, 7, 1)
    post(at(day, 9), 1)
    # The cron fires 30 s after midnight, inside the grace period: nothing is summarized.
    assert summarize_at(at(day + dt.timedelta(days=1), 0, 0, 30)) == [
        "Summarized 0 days; pruned 0 raw systems"
    ]
    # A request received at 23:59:59.999 commits 45 s after midnight.
    with time_machine.travel(at(day + dt.timedelta(days=1), 0, 0, 45), tick=False):
        assert post(at(day, 23, 59, 59, 999000), 2) == "stored"
    lines = summarize_at(at(day + dt.timedelta(days=1), 0, 11))
    assert lines[0] == "Summarized 2026-07-01: 2 systems, 0 persistent"
    assert Report.objects.filter(day=day).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns", "Europe/Berlin"]
)
def test_e2_summaries_do_not_depend_on_time_zones(zone, settings, summarize_at):
    settings.TIME_ZONE = zone
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE %s", [zone])
    start = dt.date(2026, 3, 28)  # the Berlin DST change is on 2026-03-29
    moments = [
        at(start, 23, 30),
        at(start + dt.timedelta(days=1), 0, 30),
        at(start + dt.timedelta(days=1), 1, 30),
        at(start + dt.timedelta(days=2), 23, 59),
    ]
    for n, moment in enumerate(moments):
        post(moment, n % 2, workers=(n + 1, 1))
    summarize_at(at(start + dt.timedelta(days=3), 1))
    days = {day: json.loads(text) for day, text in DailySummary.objects.values_list("date", "json")}
    core = [
        {
            "name": "core",
            "systems": 1,
            "xy": [{"version": "3.45", "count": 1}],
            "xyz": [{"version": "3.45.2", "count": 1}],
        },
        {
            "name": "file",
            "systems": 1,
            "xy": [{"version": "1.2", "count": 1}],
            "xyz": [{"version": "1.2.3", "count": 1}],
        },
    ]
    assert {
        day.isoformat(): (
            s["systems"],
            s["new_systems"],
            s["persistent_systems"],
            s["age"],
            {k: v for k, v in s["online_workers"].items() if k.endswith("_avg")},
            s["components"],
        )
        for day, s in days.items()
    } == {
        "2026-03-28": (
            1,
            1,
            0,
            [{"days": 0, "count": 1}],
            {"processes_avg": None, "hosts_avg": None},
            [],
        ),
        "2026-03-29": (
            2,
            1,
            1,
            [{"days": 0, "count": 1}, {"days": 1, "count": 1}],
            {"processes_avg": 3.0, "hosts_avg": 1.0},
            core,
        ),
        "2026-03-30": (
            1,
            0,
            1,
            [{"days": 1, "count": 1}],
            {"processes_avg": 4.0, "hosts_avg": 1.0},
            core,
        ),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("last_moment", "days"),
    [
        (at(dt.date(2026, 3, 28), 23, 59, 59, 999999), ("2026-03-28", "2026-03-29")),  # DST
        (at(dt.date(2026, 10, 24), 23, 59, 59, 999999), ("2026-10-24", "2026-10-25")),  # DST
        (at(dt.date(2028, 2, 28), 23, 59, 59, 999999), ("2028-02-28", "2028-02-29")),
        (at(dt.date(2028, 2, 29), 23, 59, 59, 999999), ("2028-02-29", "2028-03-01")),
        (at(dt.date(2026, 12, 31), 23, 59, 59, 999999), ("2026-12-31", "2027-01-01")),
    ],
)
def test_e1_e3_each_day_is_24_hours_of_utc(settings, last_moment, days):
    settings.TIME_ZONE = "Europe/Berlin"
    with time_machine.travel(last_moment, tick=False):
        assert post(dt.datetime.now(dt.UTC), 1) == "stored"
    with time_machine.travel(last_moment + dt.timedelta(microseconds=1), tick=False):
        assert post(dt.datetime.now(dt.UTC), 1) == "stored"
    assert [
        d.isoformat() for d in Report.objects.order_by("day").values_list("day", flat=True)
    ] == list(days)


@pytest.mark.django_db
def test_e3_prune_counts_are_exact_across_a_year_end_and_a_leap_day(summarize_at, settings):
    settings.RAW_RETENTION_DAYS = 2
    start = dt.date(2027, 12, 30)
    for offset in range(4):  # 12-30, 12-31, 01-01, 01-02
        for n in range(offset + 1):
            post(start + dt.timedelta(days=offset), n)
    lines = summarize_at(at(dt.date(2028, 1, 3), 1))
    # Retention 2 on 2028-01-03 keeps 01-01 and 01-02.
    assert lines[-3:] == [
        "Pruned the raw rows of 2027-12-30 (1 systems)",
        "Pruned the raw rows of 2027-12-31 (2 systems)",
        "Summarized 4 days; pruned 3 raw systems",
    ]
    for offset, n in ((0, 5), (1, 6)):
        post(dt.date(2028, 2, 28) + dt.timedelta(days=offset), n)
    lines = summarize_at(at(dt.date(2028, 3, 2), 1))
    assert lines[-1] == "Summarized 59 days; pruned 8 raw systems"
    assert list(Report.objects.values_list("day", flat=True)) == [dt.date(2028, 2, 29)]


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_e4_a_run_just_after_midnight_summarizes_only_finished_utc_days(
    zone, settings, summarize_at
):
    settings.TIME_ZONE = zone
    day = dt.date(2026, 8, 10)
    post(at(day - dt.timedelta(days=1), 22), 1)
    post(at(day, 0, 1), 2)
    assert summarize_at(at(day, 0, 5)) == ["Summarized 0 days; pruned 0 raw systems"]
    assert summarize_at(at(day, 0, 15)) == [
        "Summarized 2026-08-09: 1 systems, 0 persistent",
        "Summarized 1 day; pruned 0 raw systems",
    ]
    assert summarize_at(at(day, 23, 59)) == ["Summarized 0 days; pruned 0 raw systems"]


@pytest.mark.django_db
def test_h4_after_prune_no_old_raw_row_and_no_system_id_in_summaries(summarize_at):
    ids = [system_id(n) for n in range(4)]
    start = dt.date(2026, 4, 1)
    for offset in range(20):
        for n in range(4):
            post(start + dt.timedelta(days=offset), n)
    summarize_at(at(start + dt.timedelta(days=20), 1))
    cutoff = start + dt.timedelta(days=20 - 14)
    assert Report.objects.filter(day__lt=cutoff).count() == 0
    assert Report.objects.count() == 14 * 4
    texts = " ".join(DailySummary.objects.values_list("json", flat=True))
    for raw in ids:
        assert raw not in texts and raw.replace("-", "") not in texts
        assert hash_system_id(raw) not in texts
    assert System.objects.count() == 4


def reference_summary(reports: list[dict], day: dt.date, first_seen: dict[int, dt.date]) -> dict:
    """A plain-Python recomputation of docs/design.md "Summaries" for one day (D7's oracle)."""
    todays = [r for r in reports if r["day"] == day]
    persistent = [r for r in todays if (day - first_seen[r["system"]]).days >= 1]
    ages: dict[int, int] = defaultdict(int)
    for r in todays:
        ages[(day - first_seen[r["system"]]).days] += 1
    versions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in persistent:
        for name, version in r["components"].items():
            versions[name][version] += 1
    components = []
    for name in sorted(versions):
        by_xy: dict[str, int] = defaultdict(int)
        for version, count in versions[name].items():
            by_xy[xy(version)] += count
        components.append(
            {
                "name": name,
                "systems": sum(versions[name].values()),
                "xy": [{"version": v, "count": by_xy[v]} for v in newest_first(by_xy)],
                "xyz": [
                    {"version": v, "count": versions[name][v]} for v in newest_first(versions[name])
                ],
            }
        )
    pg: dict[int, int] = defaultdict(int)
    for r in persistent:
        pg[r["postgresql_version"] or 0] += 1

    def average(values: list[int]) -> float | None:
        # A count above PLAUSIBLE_MAX_COUNT (100,000) counts as not sent.
        values = [value for value in values if value <= 100_000]
        return round(sum(values) / len(values), 4) if values else None

    workers = [r["workers"] for r in persistent if r["workers"]]

    def nearest_rank(values: list[int], percentile: int) -> int | None:
        values = sorted(value for value in values if value <= 100_000)
        return values[math.ceil(percentile * len(values) / 100) - 1] if values else None

    return {
        "date": day.isoformat(),
        "systems": len(todays),
        "new_systems": ages.get(0, 0),
        "persistent_systems": len(persistent),
        "age": [{"days": a, "count": ages[a]} for a in sorted(ages)],
        "components": components,
        "postgresql_versions": [{"version": v, "count": pg[v]} for v in sorted(pg, reverse=True)],
        "online_workers": {
            "processes_avg": average([w[0] for w in workers]),
            "hosts_avg": average([w[1] for w in workers]),
            **{
                f"{part}_p{nn}": nearest_rank([w[index] for w in workers], nn)
                for part, index in (("processes", 0), ("hosts", 1))
                for nn in (50, 90)
            },
        },
        "online_content_apps": {
            "processes_avg": None,
            "hosts_avg": None,
            **{f"{part}_p{nn}": None for part in ("processes", "hosts") for nn in (50, 90)},
        },
        "rbac": [
            {"measure": "users", "number": u, "count": c}
            for u, c in sorted(
                _count(r["users"] for r in persistent if r["users"] is not None).items()
            )
        ],
        **reference_decisions(reports, persistent, day),
        "returning": sum(
            1
            for r in todays
            if any(o["system"] == r["system"] and o["day"] < day for o in reports)
            and not any(
                o["system"] == r["system"] and 0 < (day - o["day"]).days < 14 for o in reports
            )
        ),
        "source": "summarize",
    }


def reference_decisions(reports: list[dict], persistent: list[dict], day: dt.date) -> dict:
    """docs/design.md in plain Python (every PostgreSQL version of the strategy is valid)."""
    with_core = [r for r in persistent if "core" in r["components"]]
    compatibility = _count(
        (name, xy(version), xy(r["components"]["core"]))
        for r in with_core
        for name, version in r["components"].items()
        if name != "core"
    )
    majors = {0: "unknown", 90624: "9.6", 150004: "15", 160001: "16"}
    postgresql_core = _count(
        (majors[r["postgresql_version"] or 0], xy(r["components"]["core"])) for r in with_core
    )
    moves = []
    for r in persistent:
        earlier = [e for e in reports if e["system"] == r["system"] and e["day"] < day]
        if earlier:
            before = max(earlier, key=lambda e: e["day"])["components"]
            moves += [
                (name, before[name], version)
                for name, version in r["components"].items()
                if name in before and before[name] != version
            ]
    upgrades = _count(moves)

    def newest(version: str) -> tuple:
        return tuple(-n for n in map(int, version.split(".")))

    order = ["16", "15", "9.6", "unknown"]
    return {
        "compatibility": [
            {"component": n, "version": v, "core": c, "count": compatibility[n, v, c]}
            for n, v, c in sorted(compatibility, key=lambda k: (k[0], newest(k[1]), newest(k[2])))
        ],
        "postgresql_core": [
            {"postgresql": p, "core": c, "count": postgresql_core[p, c]}
            for p, c in sorted(postgresql_core, key=lambda k: (order.index(k[0]), newest(k[1])))
        ],
        "upgrades": [
            {"component": n, "from": f, "to": t, "count": upgrades[n, f, t]}
            for n, f, t in sorted(upgrades, key=lambda k: (k[0], newest(k[2]), newest(k[1])))
        ],
        "fields": [
            {
                "field": "postgresql_version",
                "systems": sum(bool(r["postgresql_version"]) for r in persistent),
            },
            {"field": "rbac_stats", "systems": sum(r["users"] is not None for r in persistent)},
            {
                "field": "online_workers",
                "systems": sum(r["workers"] is not None for r in persistent),
            },
            {"field": "online_content_apps", "systems": 0},
        ],
    }


def _count(values) -> dict:
    counts: dict = defaultdict(int)
    for value in values:
        counts[value] += 1
    return counts


report_strategy = st.fixed_dictionaries(
    {
        "system": st.integers(0, 7),
        "offset": st.integers(0, 3),
        "components": st.dictionaries(
            st.sampled_from(["core", "rpm", "file"]),
            st.sampled_from(["3.45.2", "3.45.10", "3.9.0", "1.0.0"]),
            max_size=3,
        ),
        "workers": st.none() | st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 9)),
        "postgresql_version": st.none() | st.sampled_from([0, 90624, 150004, 160001]),
        "users": st.none() | st.integers(0, 5),
    }
)


@pytest.mark.django_db
@hsettings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(report_strategy, max_size=25))
def test_d7_summaries_match_a_plain_python_recomputation(reports):
    start = dt.date(2026, 9, 1)
    with transaction.atomic():
        accepted, first_seen = [], {}
        for r in sorted(reports, key=lambda r: r["offset"]):
            day = start + dt.timedelta(days=r["offset"])
            outcome = post(
                day,
                r["system"],
                components=r["components"],
                workers=r["workers"],
                postgresql_version=r["postgresql_version"],
                rbac=None if r["users"] is None else {"users": r["users"]},
            )
            if outcome == "stored":
                first_seen.setdefault(r["system"], day)
                accepted.append({**r, "day": day})
        for offset in range(4):
            day = start + dt.timedelta(days=offset)
            expected = reference_summary(accepted, day, first_seen)
            assert summary_part(summarize.compute_summary(day), expected) == expected
        transaction.set_rollback(True)


class IngestSummarizePrune(RuleBasedStateMachine):
    """D6: random interleavings of ingest, summarize (with its prune) and the clock."""

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.now = at(dt.date(2026, 10, 1), 6)
        self.clock = time_machine.travel(self.now, tick=False)
        self.coordinates = self.clock.start()
        self.raw: dict[dt.date, set[int]] = defaultdict(set)  # what was stored, per day
        self.counted: dict[dt.date, int] = {}  # systems per summarized day at summarize time

    @rule(system=st.integers(0, 5))
    def ingest(self, system: int) -> None:
        outcome = post(self.now, system)
        day = self.now.date()
        assert outcome == (
            "duplicate: already received today" if system in self.raw[day] else "stored"
        )
        self.raw[day].add(system)

    @rule(hours=st.integers(1, 80))
    def advance(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)
        self.coordinates.move_to(self.now)

    @rule()
    def run_summarize(self) -> None:
        before = {day: Report.objects.filter(day=day).count() for day in self.raw}
        result = summarize.run(now=self.now)
        for day in result.summarized:
            self.counted[day] = before.get(day, 0)
            assert json.loads(DailySummary.objects.get(date=day).json)["systems"] == before.get(
                day, 0
            )
        cutoff = self.now.date() - dt.timedelta(days=14)
        assert not Report.objects.filter(day__lt=cutoff, day__in=list(self.counted)).exists()

    @invariant()
    def unsummarized_days_keep_their_raw_rows(self) -> None:
        for day, systems in self.raw.items():
            if day not in self.counted:
                assert Report.objects.filter(day=day).count() == len(systems)

    @invariant()
    def summaries_never_change_their_counts(self) -> None:
        for day, count in self.counted.items():
            assert json.loads(DailySummary.objects.get(date=day).json)["systems"] == count

    def teardown(self) -> None:
        self.clock.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)


@pytest.mark.django_db
def test_d6_random_interleavings_keep_every_invariant(settings):
    settings.RAW_RETENTION_DAYS = 14
    run_state_machine_as_test(
        IngestSummarizePrune,
        settings=hsettings(
            max_examples=100,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


REPORT_DELETE = 'DELETE FROM "pulpanalytics_report"'  # a prefix to spot, not run


@pytest.mark.django_db(transaction=True)
def test_d8_prune_deletes_a_day_in_one_short_transaction_per_batch(settings):
    settings.PRUNE_BATCH_SIZE = 2
    day, kept = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    for number in range(1, 6):
        post(day, number)
    post(kept, 1)
    deletes = 0
    # Each commit notes how many report DELETEs ran so far: one transaction would note [3, 3, 3].
    commits: list[int] = []

    def note(execute, sql, params, many, context):
        nonlocal deletes
        if sql.startswith(REPORT_DELETE):
            deletes += 1
            transaction.on_commit(lambda: commits.append(deletes))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        assert summarize.prune_day(day) == 5
    assert commits == [1, 2, 3]
    assert not Report.objects.filter(day=day).exists()
    assert not Component.objects.filter(day=day).exists()
    assert Report.objects.filter(day=kept).count() == 1
    assert Component.objects.filter(day=kept).count() == 2


@pytest.mark.django_db(transaction=True)
def test_d8_a_prune_stopped_between_batches_leaves_whole_reports_and_resumes(settings):
    settings.PRUNE_BATCH_SIZE = 2
    day = dt.date(2026, 3, 1)
    for number in range(1, 6):
        post(day, number)
    deletes = 0

    def die_on_the_second_batch(execute, sql, params, many, context):
        nonlocal deletes
        if sql.startswith(REPORT_DELETE):
            deletes += 1
            if deletes == 2:
                raise OperationalError("the prune was killed")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(die_on_the_second_batch), pytest.raises(OperationalError):
        summarize.prune_day(day)
    # The first batch is gone for good, the rest is intact: every report keeps its 2 components.
    assert Report.objects.filter(day=day).count() == 3
    assert Component.objects.filter(day=day).count() == 3 * 2
    assert summarize.prune_day(day) == 3
    assert not Report.objects.filter(day=day).exists()
    assert not Component.objects.filter(day=day).exists()
