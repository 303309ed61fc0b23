"""Raw rows partitioned by UTC day on PostgreSQL (migration 0010): create the coming days'
partitions, drop a pruned day's. On SQLite the tables are plain and every function here does
nothing; the prune deletes rows in batches there, as it does for PostgreSQL's DEFAULT partition.

`pulpanalytics_report` and `pulpanalytics_component` are each partitioned by RANGE on `day`:
one partition per day, named `<table>_pYYYYMMDD`, and a DEFAULT partition `<table>_default`
that takes the rows of a day without a partition, so a report is never lost to a missing one.
A day whose rows already sit in the DEFAULT partition gets no partition (PostgreSQL would refuse
it): they stay there until the prune deletes them row by row.

Locks: creating or detaching a partition takes an ACCESS EXCLUSIVE lock on both parent tables
and the registry (LOCKED), which waits for every running ingest transaction and makes the next
ones wait behind it. So each change is one short transaction of
its own that changes the catalog only (milliseconds once it has the locks), with lock_timeout
LOCK_TIMEOUT: behind a long transaction (a backup, a long query) it gives up rather than stall
ingest, and is tried again LOCK_ATTEMPTS times before PartitionsBusy says so. A day's data goes
by a DROP of its detached tables afterwards, which locks nothing anyone else uses: PostgreSQL
deletes a dropped table's files at the commit, still holding its locks (about a second for a
day of 1,000,000 reports), and a DROP of the attached partition held ingest up that long (D8).
"""

import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from functools import partial
from typing import TypeVar

from django.db import OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper

from pulpanalytics.models import Component, Report, System

logger = logging.getLogger(__name__)

SYSTEM, REPORT, COMPONENT = (model._meta.db_table for model in (System, Report, Component))
PARENTS = (REPORT, COMPONENT)
# What every partition change locks first, ACCESS EXCLUSIVE, in the order ingest writes them
# (the registry, the report, its components), so that a change and a report can wait for each
# other but never deadlock. The registry too: a new report partition's foreign key to it locks
# it (SHARE ROW EXCLUSIVE), and dropping a detached one's does (ACCESS EXCLUSIVE).
LOCKED = (SYSTEM, REPORT, COMPONENT)
DAY_PARTITION = re.compile(r"_p(\d{8})$")
# Ingest waits at most this long behind a partition change that waits for a lock itself.
LOCK_TIMEOUT = "2s"
LOCK_ATTEMPTS = 3
LOCK_RETRY_SECONDS = 5.0
LOCK_NOT_AVAILABLE = "55P03"

T = TypeVar("T")


class PartitionsBusy(Exception):
    """A partition change did not get its locks within LOCK_TIMEOUT, LOCK_ATTEMPTS times."""


def partitioned() -> bool:
    return connection.vendor == "postgresql"


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def default_partition(table: str) -> str:
    return f"{table}_default"


def existing_days() -> list[date]:
    """The days that have a partition of their own (of the report table), in order."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = inhrelid"
            " WHERE inhparent = %s::regclass",
            [REPORT],
        )
        names = [name for (name,) in cursor.fetchall()]
    found = (DAY_PARTITION.search(name) for name in names)
    return sorted(datetime.strptime(m.group(1), "%Y%m%d").date() for m in found if m)


def ensure(days: Iterable[date]) -> list[date]:
    """Create the partitions of both tables for each of `days` that lacks them; the days
    created. A day whose rows are already in the DEFAULT partition is left out."""
    if not partitioned():
        return []
    have = set(existing_days())
    return [day for day in sorted(set(days) - have) if _locked(partial(_create, day=day))]


def _create(cursor: CursorWrapper, *, day: date) -> bool:
    # Under the parents' locks no row can arrive meanwhile, and creating the partition scans
    # the DEFAULT partition for rows of its range, which must be none (the DEFAULT partition is
    # small: only the rows of days that had no partition). A concurrent run may have made it.
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_name(REPORT, day)])
    if cursor.fetchone()[0]:
        return False
    for table in PARENTS:
        cursor.execute(
            f'SELECT EXISTS (SELECT 1 FROM "{default_partition(table)}" WHERE day = %s)',  # noqa: S608
            [day],
        )
        if cursor.fetchone()[0]:
            logger.warning("%s: rows already in %s, no partition", day, default_partition(table))
            return False
    for table in PARENTS:
        # Inherits every index and constraint of the parent, foreign keys included. Locks: ACCESS
        # EXCLUSIVE on the parent and on its DEFAULT partition, and SHARE ROW EXCLUSIVE on the
        # tables its foreign keys refer to (the registry, the reports: held already).
        cursor.execute(
            f'CREATE TABLE "{partition_name(table, day)}" PARTITION OF "{table}"'
            " FOR VALUES FROM (%s) TO (%s)",
            [day, day + timedelta(days=1)],
        )
    return True


def drop(day: date) -> int:
    """Drop both partitions of `day`, if it has them; the number of reports they held. Rows of
    the day in the DEFAULT partition stay for the batched prune."""
    if not partitioned() or day not in existing_days():
        return 0
    with connection.cursor() as cursor:
        # A past day gets no new rows: counted before the locks, so they are held for less.
        cursor.execute(f'SELECT count(*) FROM "{partition_name(REPORT, day)}"')  # noqa: S608
        (count,) = cursor.fetchone()
    _locked(partial(_detach, day=day))
    drop_detached()
    return count


def drop_empty(*, before: date) -> list[date]:
    """Drop the partitions of the days before `before` that hold no row (created ahead for a
    day that got no report, or left after their rows were deleted); the days dropped."""
    old = [day for day in existing_days() if day < before]
    dropped = [day for day in old if _locked(partial(_detach, day=day, only_if_empty=True))]
    drop_detached()
    return dropped


def _detach(cursor: CursorWrapper, *, day: date, only_if_empty: bool = False) -> bool:
    """Detach both partitions of `day` and drop their foreign keys: catalog changes only,
    milliseconds whatever the day's size."""
    report, component = partition_name(REPORT, day), partition_name(COMPONENT, day)
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [report])
    if not cursor.fetchone()[0]:
        return False
    if only_if_empty:
        cursor.execute(
            f'SELECT EXISTS (SELECT 1 FROM "{report}") OR EXISTS (SELECT 1 FROM "{component}")'  # noqa: S608
        )
        if cursor.fetchone()[0]:
            return False
    # The components' partition first: the foreign key (report_id, day) -> report (id, day)
    # has an entry for each partition of the report table, so PostgreSQL refuses to drop or
    # detach the report's partition while a component row refers to it. Detached, the
    # partition keeps its foreign keys as its own; they go now, or dropping the table later
    # would lock the tables they refer to until its files are deleted.
    for parent, partition in ((COMPONENT, component), (REPORT, report)):
        cursor.execute(f'ALTER TABLE "{parent}" DETACH PARTITION "{partition}"')
        cursor.execute(
            # The detached table's own (conparentid 0); dropping one drops the entries it has
            # for each partition of the table it refers to.
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'"
            " AND conparentid = 0",
            [partition],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{partition}" DROP CONSTRAINT "{name}"')
    return True


def drop_detached() -> list[str]:
    """Drop the day partitions that are detached (by _detach, or left by a run stopped after
    it); their names. A detached partition is a table no one else refers to or reads: dropping
    it locks nothing but itself, and deleting its files (the long part: about a second for a
    day of 1,000,000 reports) happens at the commit with no one waiting for it."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND NOT relispartition"
            " AND relname ~ %s ORDER BY relname",
            [rf"^({REPORT}|{COMPONENT})_p\d{{8}}$"],
        )
        names = [name for (name,) in cursor.fetchall()]
    for name in names:
        _locked(partial(_drop_table, name=name), tables=(name,))
    return names


def _drop_table(cursor: CursorWrapper, *, name: str) -> None:
    cursor.execute(f'DROP TABLE "{name}"')


def _locked(change: Callable[[CursorWrapper], T], tables: tuple[str, ...] = LOCKED) -> T:
    """Run `change` in a transaction of its own that first locks `tables` (ACCESS EXCLUSIVE,
    in ingest's order) within LOCK_TIMEOUT; try again on a lock timeout."""
    attempt = 1
    while True:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # Local to this transaction: the connection's other statements keep theirs.
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
                # PostgreSQL refuses to drop a table with foreign key checks still deferred in
                # this transaction: those of rows a caller's transaction wrote (a test, a shell)
                # are done now. A run of summarize has none.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                names = ", ".join(f'"{table}"' for table in tables)
                cursor.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
                return change(cursor)
        except OperationalError as error:
            if getattr(error.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
                raise
            if attempt == LOCK_ATTEMPTS:
                listed = f"{', '.join(tables[:-1])} and {tables[-1]}"
                raise PartitionsBusy(
                    f"could not lock {listed} within {LOCK_TIMEOUT} "
                    f"({LOCK_ATTEMPTS} tries): a long transaction holds them (pg_stat_activity "
                    "shows which); nothing is lost, the next summarize run tries again"
                ) from error
            attempt += 1
            time.sleep(LOCK_RETRY_SECONDS)
