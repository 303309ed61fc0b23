"""The old Pulp analytics site's tables (docs/upstream.md), read from its database or a file.

Two ways to read the same tables: `DatabaseTables` connects to the old PostgreSQL database with
its own psycopg2 connection (never a Django alias, which `migrate` would touch) in one read-only
REPEATABLE READ transaction (one snapshot for the whole import, and PostgreSQL refuses any
write); `FileTables` reads the JSON file README.md says how to make with psql. Both give the
rows as dicts keyed by the upstream column names, and both hash each system_id the moment it is
read: the clear id never leaves this module.
"""

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg2
import psycopg2.extras

from pulpanalytics.days import utc_date
from pulpanalytics.system_ids import hash_system_id

DAILY_SUMMARY = "pulpanalytics_dailysummary"
SYSTEM = "pulpanalytics_system"
COMPONENT = "pulpanalytics_component"
DEPLOYMENT = "pulpanalytics_deploymentstats"
# The tables of one summarized day that hold lists of counts, and the columns read from each.
COUNT_TABLES = {
    "pulpanalytics_agecount": ("age", "count"),
    "pulpanalytics_xyversioncount": ("name", "version", "count"),
    "pulpanalytics_xyzversioncount": ("name", "version", "count"),
    "pulpanalytics_postgresversioncount": ("version", "count"),
    "pulpanalytics_numbercount": ("name", "number", "count"),
}
DEPLOYMENT_COLUMNS = (
    "online_worker_hosts_avg",
    "online_worker_processes_avg",
    "online_content_app_hosts_avg",
    "online_content_app_processes_avg",
)
# The numbers of a raw report (the system_id and the times aside).
REPORT_COLUMNS = (
    "postgresql_version",
    "users",
    "groups",
    "domains",
    "custom_access_policies",
    "custom_roles",
    "content_app_hosts",
    "content_app_processes",
    "worker_hosts",
    "worker_processes",
)
# Every column the import reads, by table: what a database or file must have.
COLUMNS = {
    DAILY_SUMMARY: ("date",),
    **{table: ("summary_id", *columns) for table, columns in COUNT_TABLES.items()},
    DEPLOYMENT: ("summary_id", *DEPLOYMENT_COLUMNS),
    SYSTEM: ("id", "system_id", "created", "first_seen", *REPORT_COLUMNS),
    COMPONENT: ("system_id", "name", "version"),
}


class UpstreamError(Exception):
    """The old site's data cannot be read as docs/upstream.md describes it; the message says why."""


@dataclass
class DayTables:
    """The rows of one summarized upstream day: each count table's rows, the deployment row."""

    # Rows read by column name: dicts from the database, Rows from the file.
    counts: dict[str, list]
    deployment: object | None


@dataclass(frozen=True)
class RegistryRow:
    """What the old site's raw rows say of one system: its earliest first_seen (or report) and
    its latest report, as UTC days."""

    system_hash: str
    first_seen: date
    last_seen: date


@dataclass
class UpstreamReport:
    """One upstream raw report, its system already hashed."""

    system_hash: str
    numbers: dict[str, int | None]  # REPORT_COLUMNS
    components: list[tuple[str, str]] = field(default_factory=list)


def _day(value: datetime | str | None) -> date | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return utc_date(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _registry_row(system_id: str, first: date | None, last: date) -> RegistryRow:
    return RegistryRow(hash_system_id(str(system_id)), min(first or last, last), last)


class DatabaseTables:
    """The tables in the old site's PostgreSQL database, read in one read-only transaction."""

    def __init__(self, url: str) -> None:
        try:
            # default_transaction_read_only: PostgreSQL itself refuses a write, whatever runs.
            self.connection = psycopg2.connect(
                url, options="-c default_transaction_read_only=on -c TimeZone=UTC"
            )
        except psycopg2.Error as error:
            raise UpstreamError(f"cannot connect to the upstream database: {error}") from None
        self.connection.set_session(
            isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True
        )
        self._check_columns()

    def close(self) -> None:
        # Nothing was written: closing ends the read-only transaction (a lost connection too).
        self.connection.close()

    def _rows(self, sql: str, params: object = ()) -> list[dict]:
        with self.connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute(sql, params)
            return [dict(row) for row in cursor.fetchall()]

    def _check_columns(self) -> None:
        rows = self._rows(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ANY(%s)",
            [list(COLUMNS)],
        )
        found: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            found[row["table_name"]].add(row["column_name"])
        _check(found)

    def summarized_days(self) -> list[date]:
        return [row["date"] for row in self._rows(f"SELECT date FROM {DAILY_SUMMARY} ORDER BY 1")]  # noqa: S608

    def day_tables(self, day: date) -> DayTables:
        counts = {
            table: self._rows(
                f"SELECT {', '.join(columns)} FROM {table} WHERE summary_id = %s",  # noqa: S608
                [day],
            )
            for table, columns in COUNT_TABLES.items()
        }
        deployment = self._rows(
            f"SELECT {', '.join(DEPLOYMENT_COLUMNS)} FROM {DEPLOYMENT} WHERE summary_id = %s",  # noqa: S608
            [day],
        )
        return DayTables(counts, deployment[0] if deployment else None)

    def report_days(self) -> list[date]:
        rows = self._rows(f"SELECT DISTINCT created::date AS day FROM {SYSTEM} ORDER BY 1")  # noqa: S608
        return [row["day"] for row in rows]

    def registry(self) -> Iterator[RegistryRow]:
        # The session's TimeZone is UTC, so ::date is the UTC day. LEAST ignores a null first_seen.
        rows = self._rows(
            f"SELECT system_id::text AS id, MIN(LEAST(first_seen, created))::date AS first, "  # noqa: S608
            f"MAX(created)::date AS last FROM {SYSTEM} GROUP BY system_id"
        )
        for row in rows:
            yield _registry_row(row.pop("id"), row["first"], row["last"])

    def reports(self, day: date) -> Iterator[UpstreamReport]:
        start = datetime.combine(day, time(), tzinfo=UTC)
        rows = self._rows(
            f"SELECT id, system_id::text AS system_id, {', '.join(REPORT_COLUMNS)} FROM {SYSTEM} "  # noqa: S608
            "WHERE created >= %s AND created < %s ORDER BY id",
            [start, start + timedelta(days=1)],
        )
        components: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for row in self._rows(
            f"SELECT system_id, name, version FROM {COMPONENT} WHERE system_id = ANY(%s) "  # noqa: S608
            "ORDER BY id",
            [[row["id"] for row in rows]],
        ):
            components[row["system_id"]].append((row["name"], row["version"]))
        for row in rows:
            yield _report(row, components[row["id"]])


def _report(row: dict, components: list[tuple[str, str]]) -> UpstreamReport:
    system_hash = hash_system_id(str(row.pop("system_id")))
    return UpstreamReport(
        system_hash, {column: row.get(column) for column in REPORT_COLUMNS}, components
    )


def _check(found: dict[str, set[str]]) -> None:
    """Refuse, naming what lacks, tables that are not the old site's (our own database, say)."""
    for table, columns in COLUMNS.items():
        missing = sorted(set(columns) - found.get(table, set()))
        if missing:
            raise UpstreamError(
                f"not an upstream Pulp analytics database (docs/upstream.md): table {table} "
                + ("is missing" if table not in found else f"lacks {', '.join(missing)}")
            )


class Row:
    """One row of the file: its values, beside a tuple of its columns that rows share."""

    __slots__ = ("columns", "values")

    def __init__(self, columns: tuple[str, ...], values: tuple) -> None:
        self.columns = columns
        self.values = values

    def __getitem__(self, column: str) -> object:
        return self.values[self.columns.index(column)]

    def get(self, column: str, default: object = None) -> object:
        return self[column] if column in self.columns else default

    def keys(self) -> tuple[str, ...]:
        return self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)


class _CompactRows:
    """json.load's object_pairs_hook: each row object becomes a Row, and repeated strings (dates,
    names, versions) one string, so that three years of tables (a 90 MB file) fit in a pod's
    memory; dicts would take about four times as much."""

    def __init__(self) -> None:
        self.shared: dict = {}

    def __call__(self, pairs: list[tuple[str, object]]) -> dict | Row:
        columns = tuple(column for column, _ in pairs)
        if not columns or set(columns) & COLUMNS.keys():  # the object of tables
            return dict(pairs)
        share = self.shared.setdefault
        values = tuple(share(v, v) if isinstance(v, str) else v for _, v in pairs)
        return Row(share(columns, columns), values)


class FileTables:
    """The tables in a JSON file: one object whose keys are the table names and whose values
    are lists of rows, each an object keyed by column name (README.md, "History from the old
    site", makes it with psql)."""

    def __init__(self, path: Path) -> None:
        try:
            with open(path, encoding="utf-8") as source:
                tables = json.load(source, object_pairs_hook=_CompactRows())
        except (OSError, ValueError) as error:
            raise UpstreamError(f"cannot read {path}: {error}") from None
        if not isinstance(tables, dict) or not all(
            isinstance(tables.get(table), list) and all(isinstance(r, Row) for r in tables[table])
            for table in tables.keys() & COLUMNS.keys()
        ):
            raise UpstreamError(f"{path}: not an object of tables, each a list of row objects")
        _check(
            {
                table: set(rows[0]) if rows else set(COLUMNS[table])
                for table, rows in tables.items()
                if table in COLUMNS
            }
        )
        try:
            self._index(tables)
        except (KeyError, TypeError, ValueError) as error:
            raise UpstreamError(
                f"{path}: a row is not as docs/upstream.md describes: {error}"
            ) from None

    def _index(self, tables: dict[str, list[Row]]) -> None:
        self.days = sorted(date.fromisoformat(row["date"]) for row in tables[DAILY_SUMMARY])
        self.counts: dict[date, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
        for table in COUNT_TABLES:
            for row in tables[table]:
                self.counts[date.fromisoformat(row["summary_id"])][table].append(row)
        self.deployment = {date.fromisoformat(row["summary_id"]): row for row in tables[DEPLOYMENT]}
        components: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for row in tables[COMPONENT]:
            components[row["system_id"]].append((row["name"], row["version"]))
        self.by_day: dict[date, list[UpstreamReport]] = defaultdict(list)
        firsts: dict[str, date] = {}
        lasts: dict[str, date] = {}
        # Each row is hashed as it is read; only the hash is kept.
        for row in tables[SYSTEM]:
            day = _day(row["created"])
            first = min(filter(None, (_day(row["first_seen"]), day)))
            report = _report(dict(row), components[row["id"]])
            self.by_day[day].append(report)
            firsts[report.system_hash] = min(firsts.get(report.system_hash, first), first)
            lasts[report.system_hash] = max(lasts.get(report.system_hash, day), day)
        self._registry = [RegistryRow(h, firsts[h], lasts[h]) for h in firsts]

    def close(self) -> None:
        pass

    def summarized_days(self) -> list[date]:
        return self.days

    def day_tables(self, day: date) -> DayTables:
        counts = self.counts.get(day, {})
        return DayTables(
            {table: counts.get(table, []) for table in COUNT_TABLES}, self.deployment.get(day)
        )

    def report_days(self) -> list[date]:
        return sorted(self.by_day)

    def registry(self) -> Iterator[RegistryRow]:
        return iter(self._registry)

    def reports(self, day: date) -> Iterator[UpstreamReport]:
        return iter(self.by_day.get(day, []))


UpstreamTables = DatabaseTables | FileTables
