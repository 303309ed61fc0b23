"""manage.py summarize: a hand-computed scenario through the real POST endpoint, gaps, prune,
re-summarizing, dry runs and crash safety; on SQLite and PostgreSQL."""

import datetime as dt
import json

import pytest
from django.core.management import CommandError

from pulpanalytics import metrics
from pulpanalytics.metrics.systems import Systems
from pulpanalytics.models import Component, DailySummary, Report, System
from pulpanalytics.summary_pb2 import Summary
from tests.helpers import at, summary_part

pytestmark = pytest.mark.django_db

S1 = "11111111-1111-4111-8111-111111111111"  # modern client, reports every scenario day
S2 = "22222222-2222-4222-8222-222222222222"  # old client (fields 1-4), twice on day 2
S3 = "33333333-3333-4333-8333-333333333333"  # day 1, silent for 20 days, back on day 3
S4 = "44444444-4444-4444-8444-444444444444"  # one-day install on day 2
S5 = "55555555-5555-4555-8555-555555555555"  # new on day 3

DAY1, DAY2, DAY3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 22)


def stored(day: dt.date) -> dict:
    return json.loads(DailySummary.objects.get(date=day).json)


def empty_day(day: dt.date) -> dict:
    return {
        "date": day.isoformat(),
        "systems": 0,
        "new_systems": 0,
        "persistent_systems": 0,
        "age": [],
        "components": [],
        "postgresql_versions": [],
        "online_workers": {"processes_avg": None, "hosts_avg": None, **percentiles()},
        "online_content_apps": {"processes_avg": None, "hosts_avg": None, **percentiles()},
        "rbac": [],
        "compatibility": [],
        "postgresql_core": [],
        "upgrades": [],
        "fields": fields(0, 0, 0, 0),
        "returning": 0,
        "source": "summarize",
    }


def percentiles(p50=None, p90=None, hosts_p50=None, hosts_p90=None) -> dict:
    return {
        "processes_p50": p50,
        "processes_p90": p90,
        "hosts_p50": hosts_p50,
        "hosts_p90": hosts_p90,
    }


def fields(postgresql: int, rbac: int, workers: int, content_apps: int) -> list[dict]:
    return [
        {"field": "postgresql_version", "systems": postgresql},
        {"field": "rbac_stats", "systems": rbac},
        {"field": "online_workers", "systems": workers},
        {"field": "online_content_apps", "systems": content_apps},
    ]


@pytest.fixture
def scenario(post_at, telemetry, settings):
    """Three report days; every POST must be answered as the protocol says."""
    settings.RAW_RETENTION_DAYS = 30  # nothing of the scenario is pruned by 2026-03-24
    modern = dict(
        workers=(4, 2),
        content_apps=(2, 1),
        postgresql_version=150004,
        rbac={"users": 5, "groups": 0},
    )
    posts = [
        (at(DAY1, 8), telemetry(S1, components={"core": "3.45.2", "rpm": "3.26.1"}, **modern)),
        (
            at(DAY1, 9),
            telemetry(
                S2,
                components={"core": "3.44.1", "file": "1.12.0"},
                workers=(2, 1),
                content_apps=(1, 1),
            ),
        ),
        (
            at(DAY1, 23, 59),
            telemetry(
                S3,
                components={"core": "3.45.1", "container": "2.19.0"},
                postgresql_version=90624,
                rbac={"users": 12, "domains": 1},
            ),
        ),
        (at(DAY2, 0, 1), telemetry(S1, components={"core": "3.46.0", "rpm": "3.26.1"}, **modern)),
        (
            at(DAY2, 7),
            telemetry(
                S2,
                components={"core": "3.44.1", "file": "1.12.0"},
                workers=(2, 1),
                content_apps=(1, 1),
            ),
        ),
        (
            at(DAY2, 7, 30),
            telemetry(
                S4, components={"core": "3.47.0"}, postgresql_version=160001, workers=(100, 50)
            ),
        ),
        (at(DAY3, 6), telemetry(S1, components={"core": "3.46.0", "rpm": "3.26.2"}, **modern)),
        (
            at(DAY3, 7),
            telemetry(
                S3,
                components={"core": "3.45.1", "container": "2.19.0"},
                postgresql_version=90624,
                workers=(6, None),
                rbac={"users": 12, "domains": 1},
            ),
        ),
        (at(DAY3, 8), telemetry(S5, components={"core": "3.46.0"}, workers=(1, 1))),
    ]
    for moment, body in posts:
        assert post_at(moment, body).content == b"stored"
    # A second report of S2 on day 2, different numbers: the first one wins.
    again = telemetry(S2, components={"core": "3.48.0"}, workers=(64, 64))
    assert post_at(at(DAY2, 20), again).content == b"duplicate: already received today"


def test_summarize_computes_every_number_of_the_three_day_scenario(scenario, summarize_at):
    lines = summarize_at(at(DAY3 + dt.timedelta(days=1), 1))
    assert lines[0] == "Summarized 2026-03-01: 3 systems, 0 persistent"
    assert lines[1] == "Summarized 2026-03-02: 3 systems, 2 persistent"
    assert lines[-2] == "Summarized 2026-03-22: 3 systems, 2 persistent"
    assert lines[-1] == "Summarized 22 days; pruned 0 raw systems"
    assert DailySummary.objects.count() == 22

    day1 = empty_day(DAY1)
    day1.update(systems=3, new_systems=3, age=[{"days": 0, "count": 3}])
    assert summary_part(stored(DAY1), day1) == day1

    expected = {
        "date": "2026-03-02",
        "systems": 3,
        "new_systems": 1,
        "persistent_systems": 2,
        "age": [{"days": 0, "count": 1}, {"days": 1, "count": 2}],
        "components": [
            {
                "name": "core",
                "systems": 2,
                "xy": [{"version": "3.46", "count": 1}, {"version": "3.44", "count": 1}],
                "xyz": [{"version": "3.46.0", "count": 1}, {"version": "3.44.1", "count": 1}],
            },
            {
                "name": "file",
                "systems": 1,
                "xy": [{"version": "1.12", "count": 1}],
                "xyz": [{"version": "1.12.0", "count": 1}],
            },
            {
                "name": "rpm",
                "systems": 1,
                "xy": [{"version": "3.26", "count": 1}],
                "xyz": [{"version": "3.26.1", "count": 1}],
            },
        ],
        "postgresql_versions": [{"version": 150004, "count": 1}, {"version": 0, "count": 1}],
        "online_workers": {"processes_avg": 3.0, "hosts_avg": 1.5, **percentiles(2, 4, 1, 2)},
        "online_content_apps": {
            "processes_avg": 1.5,
            "hosts_avg": 1.0,
            **percentiles(1, 2, 1, 1),
        },
        "rbac": [
            {"measure": "users", "number": 5, "count": 1},
            {"measure": "groups", "number": 0, "count": 1},
        ],
        "compatibility": [
            {"component": "file", "version": "1.12", "core": "3.44", "count": 1},
            {"component": "rpm", "version": "3.26", "core": "3.46", "count": 1},
        ],
        "postgresql_core": [
            {"postgresql": "15", "core": "3.46", "count": 1},
            {"postgresql": "unknown", "core": "3.44", "count": 1},
        ],
        "upgrades": [{"component": "core", "from": "3.45.2", "to": "3.46.0", "count": 1}],
        "fields": fields(1, 1, 2, 2),
        "returning": 0,
        "source": "summarize",
    }
    assert summary_part(stored(DAY2), expected) == expected

    for offset in range(1, 20):
        gap = DAY2 + dt.timedelta(days=offset)
        assert summary_part(stored(gap), empty_day(gap)) == empty_day(gap)

    expected = {
        "date": "2026-03-22",
        "systems": 3,
        "new_systems": 1,
        "persistent_systems": 2,
        "age": [{"days": 0, "count": 1}, {"days": 21, "count": 2}],
        "components": [
            {
                "name": "container",
                "systems": 1,
                "xy": [{"version": "2.19", "count": 1}],
                "xyz": [{"version": "2.19.0", "count": 1}],
            },
            {
                "name": "core",
                "systems": 2,
                "xy": [{"version": "3.46", "count": 1}, {"version": "3.45", "count": 1}],
                "xyz": [{"version": "3.46.0", "count": 1}, {"version": "3.45.1", "count": 1}],
            },
            {
                "name": "rpm",
                "systems": 1,
                "xy": [{"version": "3.26", "count": 1}],
                "xyz": [{"version": "3.26.2", "count": 1}],
            },
        ],
        "postgresql_versions": [{"version": 150004, "count": 1}, {"version": 90624, "count": 1}],
        "online_workers": {"processes_avg": 5.0, "hosts_avg": 2.0, **percentiles(4, 6, 2, 2)},
        "online_content_apps": {
            "processes_avg": 2.0,
            "hosts_avg": 1.0,
            **percentiles(2, 2, 1, 1),
        },
        "rbac": [
            {"measure": "users", "number": 5, "count": 1},
            {"measure": "users", "number": 12, "count": 1},
            {"measure": "groups", "number": 0, "count": 1},
            {"measure": "domains", "number": 1, "count": 1},
        ],
        # S1's previous report is day 2 (3 weeks of raw rows kept), S3's is day 1.
        "compatibility": [
            {"component": "container", "version": "2.19", "core": "3.45", "count": 1},
            {"component": "rpm", "version": "3.26", "core": "3.46", "count": 1},
        ],
        "postgresql_core": [
            {"postgresql": "15", "core": "3.46", "count": 1},
            {"postgresql": "9.6", "core": "3.45", "count": 1},
        ],
        "upgrades": [{"component": "rpm", "from": "3.26.1", "to": "3.26.2", "count": 1}],
        "fields": fields(2, 2, 2, 1),
        "returning": 2,  # S1 back after 20 days, S3 after 21 (GONE_AFTER_DAYS=14)
        "source": "summarize",
    }
    assert summary_part(stored(DAY3), expected) == expected
    s3 = System.objects.get(
        first_seen=DAY1, last_seen=DAY3, reports__day=DAY3, reports__data__postgresql_version=90624
    )
    assert s3.reports.get(day=DAY3).age_days == 21


def test_summary_json_keys_are_in_summary_proto_order_and_parse_strictly(scenario, summarize_at):
    summarize_at(at(DAY3 + dt.timedelta(days=1), 1))
    text = DailySummary.objects.get(date=DAY2).json
    keys = list(json.loads(text))
    assert keys == [field.name for field in Summary.DESCRIPTOR.fields]
    from google.protobuf import json_format

    message = json_format.Parse(text, Summary())  # no unknown key, every type right
    assert message.components[0].xy[0].version == "3.46"
    assert message.online_workers.processes_avg == 3.0


def test_summarize_skips_today_and_waits_for_the_grace_period(post_at, telemetry, summarize_at):
    post_at(at(DAY1, 12), telemetry(S1))
    assert summarize_at(at(DAY1, 23, 59)) == ["Summarized 0 days; pruned 0 raw systems"]
    assert summarize_at(at(DAY2, 0, 5)) == ["Summarized 0 days; pruned 0 raw systems"]
    assert DailySummary.objects.count() == 0
    lines = summarize_at(at(DAY2, 0, 10))
    assert lines == [
        "Summarized 2026-03-01: 1 systems, 0 persistent",
        "Summarized 1 day; pruned 0 raw systems",
    ]


def test_a_second_run_changes_nothing(scenario, summarize_at):
    summarize_at(at(DAY3 + dt.timedelta(days=1), 1))
    before = list(DailySummary.objects.values_list("date", "json", "computed_at"))
    lines = summarize_at(at(DAY3 + dt.timedelta(days=1), 2))
    assert lines == ["Summarized 0 days; pruned 0 raw systems"]
    assert list(DailySummary.objects.values_list("date", "json", "computed_at")) == before


def test_a_deleted_summary_in_the_middle_is_recomputed(scenario, summarize_at):
    summarize_at(at(DAY3 + dt.timedelta(days=1), 1))
    original = DailySummary.objects.get(date=DAY2).json
    gap = DailySummary.objects.get(date=DAY2 + dt.timedelta(days=5)).json
    DailySummary.objects.filter(date__in=[DAY2, DAY2 + dt.timedelta(days=5)]).delete()
    lines = summarize_at(at(DAY3 + dt.timedelta(days=2), 1))
    assert lines == [
        "Summarized 2026-03-02: 3 systems, 2 persistent",
        "Summarized 2026-03-07: 0 systems, 0 persistent",
        "Summarized 2026-03-23: 0 systems, 0 persistent",
        "Summarized 3 days; pruned 0 raw systems",
    ]
    assert DailySummary.objects.get(date=DAY2).json == original
    assert DailySummary.objects.get(date=DAY2 + dt.timedelta(days=5)).json == gap


def test_summarize_on_an_empty_database_succeeds(summarize_at):
    assert summarize_at(at(DAY1)) == ["Summarized 0 days; pruned 0 raw systems"]
    assert DailySummary.objects.count() == 0


def test_prune_removes_old_raw_rows_of_summarized_days_only(post_at, telemetry, summarize_at):
    post_at(at(DAY1), telemetry(S1))
    post_at(at(DAY1), telemetry(S2))
    post_at(at(DAY2), telemetry(S1))
    # 2026-03-17: retention 14 keeps 03-03 and later; only 03-02 is summarized by --date.
    lines = summarize_at(at(dt.date(2026, 3, 17), 1), "--date", "2026-03-02")
    assert lines == [
        "Summarized 2026-03-02: 1 systems, 1 persistent",
        "Pruned the raw rows of 2026-03-02 (1 systems)",
        "Summarized 1 day; pruned 1 raw system",
    ]
    assert list(Report.objects.values_list("day", flat=True).distinct()) == [DAY1]
    assert Component.objects.filter(day=DAY2).count() == 0
    assert System.objects.count() == 2  # the registry is never pruned
    # The normal run summarizes 03-01 (and the gap days), then prunes it.
    lines = summarize_at(at(dt.date(2026, 3, 17), 1))
    assert lines[0] == "Summarized 2026-03-01: 2 systems, 0 persistent"
    assert lines[-2:] == [
        "Pruned the raw rows of 2026-03-01 (2 systems)",
        "Summarized 15 days; pruned 2 raw systems",
    ]
    assert Report.objects.count() == 0 and Component.objects.count() == 0
    assert System.objects.count() == 2
    assert stored(DAY2)["persistent_systems"] == 1


def test_prune_keeps_rows_inside_the_retention(post_at, telemetry, summarize_at, settings):
    settings.RAW_RETENTION_DAYS = 3
    post_at(at(DAY1), telemetry(S1))
    post_at(at(DAY2), telemetry(S1))
    # 2026-03-05: cutoff 03-02, so 03-01 goes and 03-02 stays.
    lines = summarize_at(at(dt.date(2026, 3, 5), 1))
    assert lines[-1] == "Summarized 4 days; pruned 1 raw system"
    assert list(Report.objects.values_list("day", flat=True)) == [DAY2]


def test_date_on_a_pruned_day_fails_and_changes_nothing(post_at, telemetry, summarize_at):
    post_at(at(DAY1), telemetry(S1))
    summarize_at(at(dt.date(2026, 3, 17), 1))
    assert Report.objects.count() == 0
    before = list(DailySummary.objects.values_list("date", "json", "computed_at"))
    with pytest.raises(CommandError) as failure:
        summarize_at(at(dt.date(2026, 3, 18), 1), "--date", "2026-03-01")
    assert str(failure.value) == (
        "the raw rows of 2026-03-01 were pruned (they are kept RAW_RETENTION_DAYS=14 days); "
        "its summary stays as it is"
    )
    assert list(DailySummary.objects.values_list("date", "json", "computed_at")) == before


def test_date_resummarizes_a_day_whose_raw_rows_exist(scenario, summarize_at, settings):
    summarize_at(at(DAY3 + dt.timedelta(days=1), 1))
    assert stored(DAY3)["persistent_systems"] == 2
    settings.PERSISTENT_MIN_AGE_DAYS = 22
    lines = summarize_at(at(DAY3 + dt.timedelta(days=1), 2), "--date", "2026-03-22")
    assert lines == [
        "Summarized 2026-03-22: 3 systems, 0 persistent",
        "Summarized 1 day; pruned 0 raw systems",
    ]
    assert stored(DAY3)["components"] == []
    assert DailySummary.objects.get(date=DAY3).computed_at == at(DAY3 + dt.timedelta(days=1), 2)
    assert stored(DAY2)["persistent_systems"] == 2  # other days untouched


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("2026-03-02", "2026-03-02 has not ended yet (UTC); it is summarized once it has"),
        ("2026-03-03", "2026-03-03 has not ended yet (UTC); it is summarized once it has"),
        ("03/02/2026", "--date '03/02/2026' is not a date in the form YYYY-MM-DD"),
    ],
)
def test_date_refuses_days_that_cannot_be_summarized(summarize_at, argument, message):
    with pytest.raises(CommandError) as failure:
        summarize_at(at(DAY2, 12), "--date", argument)
    assert str(failure.value) == message
    assert DailySummary.objects.count() == 0


def test_dry_run_writes_nothing_and_says_what_it_would_do(post_at, telemetry, summarize_at):
    post_at(at(DAY1), telemetry(S1))
    post_at(at(DAY1), telemetry(S2))
    post_at(at(DAY2), telemetry(S1))
    summarize_at(at(dt.date(2026, 3, 10), 1), "--date", "2026-03-01")
    lines = summarize_at(at(dt.date(2026, 3, 17), 1), "--dry-run")
    assert lines[0] == "Would summarize 2026-03-02 (1 raw systems)"
    assert lines[1] == "Would summarize 2026-03-03 (0 raw systems)"
    assert lines[-2] == "Would prune the raw rows of 2026-03-01 (2 systems)"
    assert lines[-1] == "Dry run: would summarize 15 days; would prune 2 raw systems"
    assert list(DailySummary.objects.values_list("date", flat=True)) == [DAY1]
    assert Report.objects.count() == 3


def test_a_failure_on_day_two_keeps_day_one_and_the_next_run_completes(
    post_at, telemetry, summarize_at, monkeypatch
):
    for day, systems in ((DAY1, [S1, S2]), (DAY2, [S1, S3]), (DAY2 + dt.timedelta(days=1), [S1])):
        for system in systems:
            post_at(at(day), telemetry(system, workers=(len(system), 1)))
    run_day = at(dt.date(2026, 3, 4), 1)
    summarize_at(run_day)
    uninterrupted = dict(DailySummary.objects.values_list("date", "json"))
    assert len(uninterrupted) == 3
    DailySummary.objects.all().delete()

    original = Systems.summarize

    def failing(self, day):
        if day.date == DAY2:
            raise RuntimeError("disk full")
        return original(self, day)

    monkeypatch.setattr(Systems, "summarize", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        summarize_at(run_day)
    assert list(DailySummary.objects.values_list("date", flat=True)) == [DAY1]

    monkeypatch.setattr(Systems, "summarize", original)
    lines = summarize_at(run_day)
    assert lines[-1] == "Summarized 2 days; pruned 0 raw systems"
    assert dict(DailySummary.objects.values_list("date", "json")) == uninterrupted


def test_odd_versions_on_the_dev_site_never_stop_a_run(post_at, telemetry, summarize_at, settings):
    settings.COLLECT_DEV_SYSTEMS = True
    odd = ["main", "3.45.0.dev", "", "3", "3.45", "3.45.0", "3.9.1", "3.x.1"]
    systems = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(1, len(odd) + 1)]
    for system, version in zip(systems, odd, strict=True):
        post_at(at(DAY1), telemetry(system, components={"core": version}))
        post_at(at(DAY2), telemetry(system, components={"core": version}))
    lines = summarize_at(at(dt.date(2026, 3, 3), 1))
    assert lines[-1] == "Summarized 2 days; pruned 0 raw systems"
    core = stored(DAY2)["components"][0]
    assert core["systems"] == 8
    assert [e["version"] for e in core["xyz"]] == [
        "3.45.0.dev",
        "3.45.0",
        "3.45",
        "3.9.1",
        "3.x.1",
        "3",
        "main",
        "",
    ]
    assert core["xy"] == [
        {"version": "3.45", "count": 3},
        {"version": "3.9", "count": 1},
        {"version": "3.x", "count": 1},
        {"version": "3", "count": 1},
        {"version": "main", "count": 1},
        {"version": "", "count": 1},
    ]


def test_a_metric_that_lives_only_in_the_tests_shows_up_in_the_summary(
    scenario, summarize_at, monkeypatch, client
):
    from pulpanalytics.metrics.base import LatestChart, Metric

    class BusiestDay(Metric):
        """Which day of the week is it? (a metric nobody registered but this test)"""

        name = "weekday"
        title = "Weekday"

        def summarize(self, day):
            return {
                "weekday": day.date.isoweekday(),
                "core_systems": day.persistent_components.filter(name="core").count(),
            }

        def charts(self):
            return [
                LatestChart(
                    name="weekday",
                    title="Weekday",
                    description="ISO weekday",
                    kind="bar",
                    build=lambda summary, params: {"labels": [summary["date"]], "datasets": []},
                )
            ]

    monkeypatch.setattr(metrics, "METRICS", [*metrics.METRICS, BusiestDay()])
    summarize_at(at(DAY3 + dt.timedelta(days=1), 1))
    assert stored(DAY2)["weekday"] == 1  # 2026-03-02 is a Monday
    assert stored(DAY2)["core_systems"] == 2
    assert list(stored(DAY2))[-3:] == ["weekday", "core_systems", "source"]
    response = client.get("/api/v1/summaries/2026-03-22/")
    assert response.json()["weekday"] == 7
    assert "weekday" in metrics.charts()


def test_two_metrics_setting_the_same_key_stop_the_run(scenario, summarize_at, monkeypatch):
    monkeypatch.setattr(metrics, "METRICS", [*metrics.METRICS, Systems()])
    with pytest.raises(CommandError, match="metric 'systems' sets keys already set"):
        summarize_at(at(DAY3 + dt.timedelta(days=1), 1))
    assert DailySummary.objects.count() == 0


@pytest.mark.postgres_only
def test_a_day_is_summarized_without_postgresql_jit(report_on):
    """JIT compiling costs the day's aggregates more than it saves; off for the summary's own
    transaction only (here the test's, which holds it)."""
    from django.db import connection
    from django.utils import timezone

    from pulpanalytics.summarize import store_summary

    def jit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            return cursor.fetchone()[0]

    report_on(dt.date(2026, 3, 1), "11111111-1111-4111-8111-111111111111")
    before = jit()
    store_summary(dt.date(2026, 3, 1), now=timezone.now())
    assert (before, jit()) == ("on", "off")
