"""Summaries: every finished UTC day without one -> one Summary per day -> stored; then prune.

A day is finished once it has ended in UTC and SUMMARIZE_GRACE_MINUTES have passed, so that a
report received at 23:59:59.999 and committed a moment later is still counted. Each day is
summarized in its own transaction, oldest first; a failure stops the run with the days before it
committed, and the next run starts from the failed day. A day's chart points (points.py) are
stored with its summary; the points of days made by other code or settings are remade next.
Each day's alerts (watchdog.py) are found and stored in its transaction too, and mailed after
the run's days; then the files of /data/ whose sources changed are remade (opendata.py).
Raw rows are pruned only for days that have a summary and are older than RAW_RETENTION_DAYS: on
PostgreSQL by dropping the day's partitions (partitions.py), and what is left of the day (all of
it on SQLite) PRUNE_BATCH_SIZE reports per transaction. Each run then creates the partitions of
today and the next PARTITION_DAYS_AHEAD days.
"""

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from google.protobuf import json_format

from pulpanalytics import metrics, opendata, partitions, points, watchdog
from pulpanalytics.days import utc_date
from pulpanalytics.metrics.base import Day
from pulpanalytics.models import Component, DailySummary, Report
from pulpanalytics.summary_pb2 import Summary
from pulpanalytics.wording import how_many

# Any constant shared by every summarize process of this database (pg_try_advisory_lock key).
ADVISORY_LOCK_KEY = 0x5A17_A7A1
# The longest rest of the prune between two batches (it rests as long as a batch took).
PRUNE_MAX_PAUSE_SECONDS = 1.0


class SummarizeError(Exception):
    """A run cannot do what it was asked; the message says why (the command's CommandError)."""


@dataclass
class RunOutcome:
    """What one run did (or, in a dry run, would do)."""

    summarized: list[date] = field(default_factory=list)
    pruned_days: list[date] = field(default_factory=list)
    pruned_reports: int = 0
    remade_points_days: int = 0
    alerts: list[watchdog.Finding] = field(default_factory=list)
    dry_run: bool = False
    locked_out: bool = False

    def last_line(self) -> str:
        if self.locked_out:
            return "Another summarize run holds the lock; nothing done"
        summarized, remade, pruned = (
            ("Dry run: would summarize", "would remake", "would prune")
            if self.dry_run
            else ("Summarized", "remade", "pruned")
        )
        parts = [f"{summarized} {how_many(len(self.summarized), 'day')}"]
        # Points are remade only after a deploy that changed their code or PUBLIC_MIN_COUNT.
        if self.remade_points_days:
            days = how_many(self.remade_points_days, "day")
            parts.append(f"{remade} the chart points of {days}")
        parts.append(f"{pruned} {how_many(self.pruned_reports, 'raw system')}")
        return "; ".join(parts)


def first_unfinished_day(now: datetime) -> date:
    """Days before this one have ended in UTC (with the grace period) and may be summarized."""
    return utc_date(now - timedelta(minutes=settings.SUMMARIZE_GRACE_MINUTES))


def pending_days(*, until: date) -> list[date]:
    """Every day from the first raw row up to (not including) `until` without a summary."""
    first = Report.objects.aggregate(first=Min("day"))["first"]
    if first is None or first >= until:
        return []
    done = set(
        DailySummary.objects.filter(date__gte=first, date__lt=until).values_list("date", flat=True)
    )
    days = (first + timedelta(days=offset) for offset in range((until - first).days))
    return [day for day in days if day not in done]


def nothing_pending_reason(*, now: datetime) -> str:
    """Why a run has no day to summarize: what a person who asked for one needs to hear."""
    until = first_unfinished_day(now)
    first = Report.objects.aggregate(first=Min("day"))["first"]
    if first is None:
        return "No day to summarize: no raw report is stored (none received yet, or all pruned)."
    latest = DailySummary.objects.aggregate(latest=Max("date"))["latest"]
    done = f"the latest is {latest}" if latest else "none yet"
    return (
        f"No day to summarize: every ended day with reports is summarized ({done}); {until} "
        f"(UTC) is summarized once it has ended and SUMMARIZE_GRACE_MINUTES="
        f"{settings.SUMMARIZE_GRACE_MINUTES} have passed."
    )


def compute_summary(day: date) -> dict:
    """The Summary of `day` as a dict in JSON form: every metric of METRICS, in order."""
    context = Day(date=day, persistent_min_age=settings.PERSISTENT_MIN_AGE_DAYS)
    summary: dict = {"date": day.isoformat()}
    for metric in metrics.METRICS:
        part = metric.summarize(context)
        clash = summary.keys() & part.keys()
        if clash:
            raise SummarizeError(f"metric {metric.name!r} sets keys already set: {sorted(clash)}")
        summary.update(part)
    summary["source"] = DailySummary.SUMMARIZE
    # The keys summary.proto declares must have its types; keys it does not know yet may exist.
    json_format.ParseDict(summary, Summary(), ignore_unknown_fields=True)
    return summary


@transaction.atomic
def store_summary(
    day: date, *, now: datetime, alerts: list[watchdog.Finding] | None = None
) -> dict:
    """Compute and store the day's summary, its chart points and its alerts, all or nothing;
    new alerts are added to `alerts`."""
    if connection.vendor == "postgresql":
        # The day's aggregates run for tenths of a second each: compiling them (PostgreSQL's JIT,
        # on by default) costs more than it saves, 0.3 of 1.7 s for a day of 100,000 systems.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    summary = compute_summary(day)
    daily, _ = DailySummary.objects.update_or_create(
        date=day,
        defaults={
            "json": json.dumps(summary, separators=(",", ":")),
            "computed_at": now,
            "source": DailySummary.SUMMARIZE,
        },
    )
    points.store(daily, summary)
    found = watchdog.record(day, summary, now=now)
    if alerts is not None:
        alerts += found
    return summary


def prunable_days(*, today: date) -> list[date]:
    """Summarized days whose raw rows are past RAW_RETENTION_DAYS."""
    cutoff = today - timedelta(days=settings.RAW_RETENTION_DAYS)
    raw_days = set(Report.objects.filter(day__lt=cutoff).values_list("day", flat=True).distinct())
    summarized = set(DailySummary.objects.filter(date__in=raw_days).values_list("date", flat=True))
    return sorted(raw_days & summarized)


def prune_day(day: date, *, batch_size: int | None = None) -> int:
    """Delete the raw rows of one day; their count. On PostgreSQL the day's partitions are
    dropped (milliseconds, and no dead rows for autovacuum); the rows of the day in the DEFAULT
    partition, or all of them on SQLite, are deleted PRUNE_BATCH_SIZE reports per transaction.

    One transaction for a whole day would hold a million rows' locks and WAL until its commit;
    short batches let ingest go on meanwhile. A run killed between batches leaves whole reports
    (components and all), and the next run, finding the day still prunable, deletes the rest.
    Between batches the prune rests as long as the batch took (at most PRUNE_MAX_PAUSE_SECONDS):
    it is background work, so it takes at most about half a core of the database from ingest.
    """
    deleted = partitions.drop(day)
    size = batch_size or settings.PRUNE_BATCH_SIZE
    rows = Report.objects.filter(day=day)
    # A past day gets no new rows, so its id range is fixed; batches walk it on the primary key.
    last = rows.aggregate(last=Max("id"))["last"]
    start = rows.aggregate(first=Min("id"))["first"]
    while start is not None:
        end = start + size  # ids are unique: at most `size` reports in [start, end)
        began = time.monotonic()
        deleted += _prune_batch(day, start=start, end=end)
        start = rows.filter(id__gte=end, id__lte=last).aggregate(first=Min("id"))["first"]
        if start is not None:
            time.sleep(min(time.monotonic() - began, PRUNE_MAX_PAUSE_SECONDS))
    return deleted


@transaction.atomic
def _prune_batch(day: date, *, start: int, end: int) -> int:
    """Delete the reports of `day` with ids in [start, end), components first (their foreign
    key does not cascade; each table in one statement)."""
    Component.objects.filter(day=day, report_id__gte=start, report_id__lt=end).delete()
    deleted, _ = Report.objects.filter(day=day, id__gte=start, id__lt=end).delete()
    return deleted


@contextmanager
def exclusive_run() -> Iterator[bool]:
    """True when this process may run; a second concurrent run gets False and does nothing.

    PostgreSQL: a session advisory lock. SQLite allows one writer at a time anyway.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


def run(
    *,
    now: datetime,
    only: date | None = None,
    dry_run: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> RunOutcome:
    """Summarize the pending days (or only `only`), then prune; `log` gets one line per step."""
    outcome = RunOutcome(dry_run=dry_run)
    with exclusive_run() as acquired:
        if not acquired:
            outcome.locked_out = True
            return outcome
        until = first_unfinished_day(now)
        days = (
            [_check_resummarizable(only, until=until, today=utc_date(now))]
            if only
            else (pending_days(until=until))
        )
        for day in days:
            if dry_run:
                count = Report.objects.filter(day=day).count()
                log(f"Would summarize {day} ({count:,} raw systems)")
            else:
                summary = store_summary(day, now=now, alerts=outcome.alerts)
                log(
                    f"Summarized {day}: {summary.get('systems', 0):,} systems, "
                    f"{summary.get('persistent_systems', 0):,} persistent"
                )
            outcome.summarized.append(day)
        if dry_run:
            outcome.remade_points_days = points.stale().count()
        else:
            outcome.remade_points_days = points.refresh(log=log)
            for alert in outcome.alerts:
                log(f"Alert {alert.kind} on {alert.date}: {alert.message}")
            watchdog.mail(outcome.alerts)
            # After the points: the chart files of /data/ are made from them. Quietly: /data/
            # lists what was made and when.
            opendata.refresh(now=now)
        for day in prunable_days(today=utc_date(now)):
            if dry_run:
                count = Report.objects.filter(day=day).count()
                log(f"Would prune the raw rows of {day} ({count:,} systems)")
            else:
                count = prune_day(day)
                log(f"Pruned the raw rows of {day} ({count:,} systems)")
            outcome.pruned_days.append(day)
            outcome.pruned_reports += count
        if not dry_run:
            keep_partitions(today=utc_date(now))
    return outcome


def keep_partitions(*, today: date) -> None:
    """PostgreSQL: create the partitions of today and the next PARTITION_DAYS_AHEAD days, so
    that their reports land in their own, and drop the empty ones of days past the retention."""
    cutoff = today - timedelta(days=settings.RAW_RETENTION_DAYS)
    partitions.drop_empty(before=cutoff)
    ahead = range(settings.PARTITION_DAYS_AHEAD + 1)
    partitions.ensure(today + timedelta(days=offset) for offset in ahead)


def _check_resummarizable(day: date, *, until: date, today: date) -> date:
    if day >= until:
        raise SummarizeError(f"{day} has not ended yet (UTC); it is summarized once it has")
    cutoff = today - timedelta(days=settings.RAW_RETENTION_DAYS)
    imported = DailySummary.objects.filter(date=day, source=DailySummary.UPSTREAM)
    if imported.exists() and not Report.objects.filter(day=day).exists():
        raise SummarizeError(
            f"{day} was imported from the old site (import_upstream) and has no raw rows here; "
            "its summary stays as it is"
        )
    if day < cutoff and not Report.objects.filter(day=day).exists():
        raise SummarizeError(
            f"the raw rows of {day} were pruned (they are kept RAW_RETENTION_DAYS="
            f"{settings.RAW_RETENTION_DAYS} days); its summary stays as it is"
        )
    return day
