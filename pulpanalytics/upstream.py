"""History from the old Pulp analytics site (docs/upstream.md).

`run()` imports what the old site knows and this one does not: the summary of every upstream
day that has none here (marked "source": "upstream"; a day summarized here is never
overwritten), the raw reports of the upstream days that neither site has summarized (its newest
days: our summarize makes them), and the registry's first_seen of every system in the upstream
raw rows (only ever made earlier). Each day is one transaction, with its chart points; a second
run finds nothing to do. Upstream data meets the rules ingest applies: component names that are
no plugin label are folded into the "other" entry of a summary, and a raw report ingest would
refuse or ignore is left out; counts the statistics would not trust are left out the same way.
"""

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from google.protobuf import json_format

from pulpanalytics import opendata, points
from pulpanalytics.days import as_date
from pulpanalytics.ingest import (
    GA_VERSION_RE,
    INSERT_REPORT_SQL,
    MAX_COMPONENTS,
    MAX_NAME_LENGTH,
    MAX_VERSION_LENGTH,
    UPSERT_MONTH_SQL,
    UPSERT_SYSTEM_SQL,
    day_bit,
    insert_components,
    report_data,
)
from pulpanalytics.metrics.averages import DECIMALS
from pulpanalytics.metrics.components import counted, names_other_last
from pulpanalytics.metrics.rbac import MEASURES
from pulpanalytics.metrics.series import xy
from pulpanalytics.models import Component, DailySummary, Report, System
from pulpanalytics.plausible import (
    is_clean_version,
    is_plausible_count,
    is_plugin_label,
    is_server_version_num,
)
from pulpanalytics.public import OTHER
from pulpanalytics.summarize import exclusive_run
from pulpanalytics.summary_pb2 import Summary
from pulpanalytics.telemetry_pb2 import Telemetry
from pulpanalytics.upstream_tables import DayTables, RegistryRow, UpstreamReport, UpstreamTables
from pulpanalytics.wording import how_many

# Before this day the old site stored 0 in RBAC columns for clients that sent no RBAC numbers
# (pulpcore sends them since 3.23, released in March 2023): a 0 then means "not sent".
RBAC_RELIABLE_FROM = date(2023, 3, 1)
REGISTRY_BATCH = 1000
UINT32_MAX = 2**32 - 1
# Report columns of the old site -> (telemetry.proto message, field).
REPORT_FIELDS = {
    "worker_processes": ("online_workers", "processes"),
    "worker_hosts": ("online_workers", "hosts"),
    "content_app_processes": ("online_content_apps", "processes"),
    "content_app_hosts": ("online_content_apps", "hosts"),
    **{measure: ("rbac_stats", measure) for measure in MEASURES},
}
# The averages of the old site's deploymentstats: Summary key -> (processes, hosts) columns.
AVERAGES = {
    "online_workers": ("online_worker_processes_avg", "online_worker_hosts_avg"),
    "online_content_apps": ("online_content_app_processes_avg", "online_content_app_hosts_avg"),
}


@dataclass
class ImportOutcome:
    """What one run did (or, in a dry run, would do)."""

    summaries: list[date] = field(default_factory=list)
    report_days: list[date] = field(default_factory=list)
    reports: int = 0
    left_out: int = 0
    new_systems: int = 0
    earlier_systems: int = 0
    dry_run: bool = False
    locked_out: bool = False

    def last_line(self) -> str:
        if self.locked_out:
            return "A summarize or import run holds the lock; nothing done"
        verb = "Dry run: would import" if self.dry_run else "Imported"
        line = (
            f"{verb} {how_many(len(self.summaries), 'upstream summary', 'upstream summaries')} and "
            f"{how_many(self.reports, 'raw report')} of {how_many(len(self.report_days), 'day')}; "
            f"registry: {how_many(self.new_systems, 'new system')}, "
            f"{self.earlier_systems:,} first seen earlier"
        )
        if self.left_out:
            line += f"; left out {how_many(self.left_out, 'report')} ingest would refuse"
        return line


@dataclass(frozen=True)
class Progress:
    """One day done: its number among the days of the run, and what became of it."""

    number: int
    days: int
    date: date
    what: str


def _positive(rows: Iterable[dict]) -> Iterator[dict]:
    return (row for row in rows if isinstance(row["count"], int) and row["count"] > 0)


def _components(xy_rows: list[dict], xyz_rows: list[dict]) -> list[dict]:
    xys: dict[str, dict[str, int]] = {}
    xyzs: dict[str, dict[str, int]] = {}
    for rows, into in ((xy_rows, xys), (xyz_rows, xyzs)):
        for row in _positive(rows):
            into.setdefault(row["name"], {})
            into[row["name"]][row["version"]] = row["count"]
    components, other = [], 0
    for name in names_other_last(xys.keys() | xyzs.keys()):
        # systems: the sum of its X.Y counts (docs/upstream.md); of its X.Y.Z counts if it has none.
        systems = sum((xys.get(name) or xyzs[name]).values())
        if not is_plugin_label(name):
            other += systems
            continue
        # A version with whitespace or control characters is left out of the lists, not the sum.
        by_xy = {v: c for v, c in xys.get(name, {}).items() if is_clean_version(v)}
        by_xyz = {v: c for v, c in xyzs.get(name, {}).items() if is_clean_version(v)}
        if name not in xys:
            for version, count in by_xyz.items():
                by_xy[xy(version)] = by_xy.get(xy(version), 0) + count
        components.append(
            {"name": name, "systems": systems, "xy": counted(by_xy), "xyz": counted(by_xyz)}
        )
    if other:
        components.append({"name": OTHER, "systems": other, "xy": [], "xyz": [], OTHER: True})
    return components


def _postgresql(rows: list[dict]) -> list[dict]:
    counts: dict[int, int] = {}
    for row in _positive(rows):
        # A number that is no server_version_num counts as unknown, as summarize counts it.
        version = row["version"] if is_server_version_num(row["version"] or 0) else 0
        counts[version] = counts.get(version, 0) + row["count"]
    return [{"version": v, "count": counts[v]} for v in sorted(counts, reverse=True)]


def _rbac(rows: list[dict], day: date) -> list[dict]:
    order = {measure: index for index, measure in enumerate(MEASURES)}
    kept = [
        row
        for row in _positive(rows)
        if row["name"] in order
        and is_plausible_count(row["number"])
        and (row["number"] or day >= RBAC_RELIABLE_FROM)
    ]
    kept.sort(key=lambda row: (order[row["name"]], row["number"]))
    return [{"measure": r["name"], "number": r["number"], "count": r["count"]} for r in kept]


def _average(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def upstream_summary(day: date, tables: DayTables) -> dict:
    """Our Summary of an upstream day (docs/upstream.md, "Mapping"), keys in summary.proto order."""
    counts = tables.counts
    ages = sorted(_positive(counts["pulpanalytics_agecount"]), key=lambda row: row["age"])
    deployment = tables.deployment or {}
    mapped = {
        "date": day.isoformat(),
        "systems": sum(row["count"] for row in ages),
        "new_systems": sum(row["count"] for row in ages if row["age"] == 0),
        "persistent_systems": sum(row["count"] for row in ages if row["age"] >= 1),
        "age": [{"days": row["age"], "count": row["count"]} for row in ages],
        "components": _components(
            counts["pulpanalytics_xyversioncount"], counts["pulpanalytics_xyzversioncount"]
        ),
        "postgresql_versions": _postgresql(counts["pulpanalytics_postgresversioncount"]),
        **{
            key: {
                "processes_avg": _average(deployment.get(processes)),
                "hosts_avg": _average(deployment.get(hosts)),
            }
            for key, (processes, hosts) in AVERAGES.items()
        },
        "rbac": _rbac(counts["pulpanalytics_numbercount"], day),
        "source": DailySummary.UPSTREAM,
    }
    summary = {}
    for proto_field in Summary.DESCRIPTOR.fields:
        name = proto_field.name
        if name in mapped:
            value = mapped[name]
            if isinstance(value, dict):  # the parts the old site never measured: null
                for part in proto_field.message_type.fields:
                    value.setdefault(part.name, [] if part.is_repeated else None)
            summary[name] = value
        else:
            summary[name] = [] if proto_field.is_repeated else None
    json_format.ParseDict(summary, Summary())
    return summary


@transaction.atomic
def store_upstream_summary(day: date, tables: DayTables, *, now: datetime) -> dict | None:
    """Store the summary of an upstream day with its chart points; None if the day has one."""
    if DailySummary.objects.filter(date=day).exists():
        return None
    summary = upstream_summary(day, tables)
    daily = DailySummary.objects.create(
        date=day,
        json=json.dumps(summary, separators=(",", ":")),
        computed_at=now,
        source=DailySummary.UPSTREAM,
    )
    points.store(daily, summary)
    return summary


def refusal(report: UpstreamReport) -> str | None:
    """Why ingest would refuse (or, off the dev site, ignore) the report's components, if it
    would (ingest.parse_report and development_version)."""
    if len(report.components) > MAX_COMPONENTS:
        return "too many components"
    names = [name for name, _ in report.components]
    if len(set(names)) != len(names):
        return "a component twice"
    for name, version in report.components:
        if not is_plugin_label(name) or len(name) > MAX_NAME_LENGTH:
            return "a component name that is no plugin label"
        if not is_clean_version(version) or len(version) > MAX_VERSION_LENGTH:
            return "a version with whitespace or control characters"
        if not settings.COLLECT_DEV_SYSTEMS and not GA_VERSION_RE.fullmatch(version):
            return "a development version"
    return None


def telemetry_numbers(report: UpstreamReport, day: date) -> Telemetry:
    """The report's numbers as the Telemetry message pulpcore would have sent (no system_id)."""
    message = Telemetry()
    for column, (name, part) in REPORT_FIELDS.items():
        value = report.numbers.get(column)
        if value is None or not 0 <= value <= UINT32_MAX:
            continue  # not sent (or no value the wire can carry)
        if name == "rbac_stats" and value == 0 and day < RBAC_RELIABLE_FROM:
            continue
        setattr(getattr(message, name), part, value)
    version = report.numbers.get("postgresql_version") or 0
    if 0 < version <= UINT32_MAX:
        message.postgresql_version = version
    for name, version in report.components:
        message.components.add(name=name, version=version)
    return message


@transaction.atomic
def store_upstream_reports(day: date, reports: Iterable[UpstreamReport]) -> tuple[int, int]:
    """Store the day's upstream raw reports as ingest stores a report (a system's first report
    of the day wins); (stored, left out)."""
    stored = left_out = 0
    with connection.cursor() as cursor:
        for report in reports:
            if refusal(report) is not None:
                left_out += 1
                continue
            message = telemetry_numbers(report, day)
            cursor.execute(UPSERT_SYSTEM_SQL, [report.system_hash, day, day])
            system_pk, first_seen = cursor.fetchone()
            age_days = max((day - as_date(first_seen)).days, 0)
            data = json.dumps(report_data(message))
            # The day's bit of the system's activity (cohorts, returning), as ingest sets it.
            cursor.execute(UPSERT_MONTH_SQL, [system_pk, day.replace(day=1), day_bit(day)])
            cursor.execute(INSERT_REPORT_SQL, [system_pk, day, age_days, data])
            row = cursor.fetchone()
            if row is not None:
                insert_components(cursor, row[0], day, age_days, list(message.components))
                stored += 1
    return stored, left_out


def _batches(rows: Iterable[RegistryRow]) -> Iterator[list[RegistryRow]]:
    batch: list[RegistryRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == REGISTRY_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


@transaction.atomic
def seed_registry(rows: Iterable[RegistryRow], *, write: bool = True) -> tuple[int, int]:
    """Registry rows for the upstream systems: new ones made, first_seen made earlier (never
    later), last_seen later; (new systems, systems first seen earlier).

    The raw rows already stored here of a system seen earlier get their age again, so that the
    days summarize has not made yet count them right.
    """
    new = earlier = 0
    for batch in _batches(rows):
        known = System.objects.in_bulk([row.system_hash for row in batch], field_name="system_hash")
        created, changed, moved = [], [], []
        for row in batch:
            system = known.get(row.system_hash)
            if system is None:
                created.append(System(**vars(row)))
                continue
            if row.first_seen < system.first_seen:
                system.first_seen = row.first_seen
                moved.append(system)
            system.last_seen = max(system.last_seen, row.last_seen)
            changed.append(system)
        new += len(created)
        earlier += len(moved)
        if write:
            System.objects.bulk_create(created)
            System.objects.bulk_update(changed, ["first_seen", "last_seen"])
            _age_again(moved)
            _active_on_first_and_last_day([*created, *changed])
    return new, earlier


def _active_on_first_and_last_day(systems: list[System]) -> None:
    """The activity the old site's registry rows tell (their first and last day), as the
    migration that made SystemMonth backfilled it; OR-ed into what is there."""
    pks = {system.system_hash: pk for system in systems for pk in [system.pk] if pk}
    missing = [system.system_hash for system in systems if not system.pk]
    if missing:
        pks.update(System.objects.filter(system_hash__in=missing).values_list("system_hash", "id"))
    with connection.cursor() as cursor:
        for system in systems:
            for day in {system.first_seen, system.last_seen}:
                cursor.execute(
                    UPSERT_MONTH_SQL,
                    [pks[system.system_hash], day.replace(day=1), day_bit(day)],
                )


def _age_again(systems: list[System]) -> None:
    first_seen = {system.pk: system.first_seen for system in systems}
    reports = list(Report.objects.filter(system_id__in=first_seen).only("id", "system", "day"))
    for report in reports:
        report.age_days = max((report.day - first_seen[report.system_id]).days, 0)
        Component.objects.filter(report=report).update(age_days=report.age_days)
    Report.objects.bulk_update(reports, ["age_days"])


def _span(days: list[date]) -> str:
    if not days:
        return "none"
    if len(days) == 1:
        return str(days[0])
    return f"{how_many(len(days), 'day')}, {days[0]} to {days[-1]}"


def run(
    *,
    tables: UpstreamTables,
    now: datetime,
    dry_run: bool = False,
    log: Callable[[str], None] = lambda line: None,
    progress: Callable[[Progress], None] = lambda done: None,
) -> ImportOutcome:
    """Import what `tables` hold and this site lacks; `log` gets a line per step, `progress` a
    call per day. Holds summarize's lock, so the two never run at once."""
    outcome = ImportOutcome(dry_run=dry_run)
    with exclusive_run() as acquired:
        if not acquired:
            outcome.locked_out = True
            return outcome
        ours = set(DailySummary.objects.values_list("date", flat=True))
        upstream_days = tables.summarized_days()
        summary_days = [day for day in upstream_days if day not in ours]
        summarized = ours | set(upstream_days)
        report_days = [day for day in tables.report_days() if day not in summarized]
        outcome.new_systems, outcome.earlier_systems = seed_registry(
            tables.registry(), write=not dry_run
        )
        log(
            f"Registry: {how_many(outcome.new_systems, 'new system')}, "
            f"{outcome.earlier_systems:,} first seen earlier"
        )
        log(f"Upstream summaries to import: {_span(summary_days)}")
        log(f"Upstream days of raw reports to import: {_span(report_days)}")
        days = len(summary_days) + len(report_days)
        for number, day in enumerate(summary_days, start=1):
            if dry_run:
                what = "would import its summary"
            else:
                summary = store_upstream_summary(day, tables.day_tables(day), now=now)
                if summary is None:
                    continue
                what = f"imported its summary ({summary['systems']:,} systems)"
            outcome.summaries.append(day)
            progress(Progress(number, days, day, what))
        for number, day in enumerate(report_days, start=len(summary_days) + 1):
            reports = list(tables.reports(day))
            if dry_run:
                here = set(Report.objects.filter(day=day).values_list("system__system_hash"))
                left_out = sum(refusal(report) is not None for report in reports)
                stored = sum(
                    refusal(report) is None and (report.system_hash,) not in here
                    for report in reports
                )
                what = f"would import {how_many(stored, 'raw report')}"
            else:
                stored, left_out = store_upstream_reports(day, reports)
                what = f"imported {how_many(stored, 'raw report')}"
            if stored:
                outcome.report_days.append(day)
            outcome.reports += stored
            outcome.left_out += left_out
            progress(Progress(number, days, day, what))
        if outcome.summaries and not dry_run:
            # The files of /data/ hold every summary: the imported days too.
            opendata.refresh(now=now, log=log)
    return outcome
