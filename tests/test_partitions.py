"""PostgreSQL's raw tables partitioned by day (pulpanalytics/partitions.py, migration 0010): where
reports land, the prune dropping a day's partitions, the DEFAULT partition, ingest's duplicate
check and forget_system across partitions, and a partition change that cannot get its locks."""

import datetime as dt
import importlib
from types import SimpleNamespace

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from pulpanalytics import ingest, partitions, summarize
from pulpanalytics.forget import forget_systems
from pulpanalytics.models import Component, Report
from pulpanalytics.system_ids import hash_system_id
from tests.helpers import at, build_telemetry, database_url, system_id

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

# Far from the days the migration made partitions for (the days around the test run).
DAY, NEXT, LATER = dt.date(2031, 5, 10), dt.date(2031, 5, 11), dt.date(2031, 5, 12)
REPORT_DELETE = 'DELETE FROM "pulpanalytics_report"'


def post(day: dt.date, number: int) -> str:
    body = build_telemetry(system_id(number)).SerializeToString()  # core and file
    return ingest.ingest(body=body, received_at=at(day)).message


def rows_by_table(table: str, day: dt.date) -> dict[str, int]:
    """The rows of `day` in `table`, counted by the partition that holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text, count(*) FROM {table} WHERE day = %s GROUP BY 1",  # noqa: S608
            [day],
        )
        return dict(cursor.fetchall())


def prune_counting_deletes(day: dt.date) -> tuple[int, int]:
    """(reports the prune of `day` took, DELETE statements it ran on the report table)."""
    deletes = 0

    def count(execute, sql, params, many, context):
        nonlocal deletes
        deletes += sql.startswith(REPORT_DELETE)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        pruned = summarize.prune_day(day)
    return pruned, deletes


def tables_named(*names: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s)", [list(names)])
        return sorted(name for (name,) in cursor.fetchall())


def test_the_migration_partitions_both_tables_from_today_on():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relkind FROM pg_class WHERE relname = ANY(%s) ORDER BY 1",
            [["pulpanalytics_component", "pulpanalytics_report"]],
        )
        assert cursor.fetchall() == [
            ("pulpanalytics_component", "p"),
            ("pulpanalytics_report", "p"),
        ]
    today = timezone.now().date()
    ahead = [today + dt.timedelta(days=offset) for offset in range(8)]
    assert set(ahead) <= set(partitions.existing_days())
    assert partitions.ensure(ahead) == []


def test_reports_of_a_day_with_partitions_land_in_them():
    assert partitions.ensure([DAY]) == [DAY]
    assert [post(DAY, n) for n in range(3)] == ["stored"] * 3
    assert rows_by_table("pulpanalytics_report", DAY) == {"pulpanalytics_report_p20310510": 3}
    assert rows_by_table("pulpanalytics_component", DAY) == {"pulpanalytics_component_p20310510": 6}


def test_a_report_of_a_day_without_a_partition_lands_in_the_default_one():
    assert DAY not in partitions.existing_days()
    assert post(DAY, 1) == "stored"
    assert rows_by_table("pulpanalytics_report", DAY) == {"pulpanalytics_report_default": 1}
    assert rows_by_table("pulpanalytics_component", DAY) == {"pulpanalytics_component_default": 2}


def test_ensure_is_idempotent():
    assert partitions.ensure([NEXT, DAY]) == [DAY, NEXT]
    assert partitions.ensure([DAY, NEXT, LATER]) == [LATER]
    assert partitions.ensure([DAY, NEXT, LATER]) == []
    made = [
        f"pulpanalytics_{table}_p2031051{n}" for table in ("component", "report") for n in "012"
    ]
    assert tables_named(*made) == made


def test_ensure_leaves_a_day_whose_rows_are_in_the_default_partition_there():
    post(DAY, 1)
    assert partitions.ensure([DAY, NEXT]) == [NEXT]
    assert DAY not in partitions.existing_days()
    assert rows_by_table("pulpanalytics_report", DAY) == {"pulpanalytics_report_default": 1}


def test_the_prune_drops_the_partitions_of_the_day_and_keeps_the_other_days():
    partitions.ensure([DAY, NEXT])
    for n in range(3):
        post(DAY, n)
    for n in range(2):
        post(NEXT, n)
    assert prune_counting_deletes(DAY) == (3, 0)
    assert tables_named("pulpanalytics_report_p20310510", "pulpanalytics_component_p20310510") == []
    assert Report.objects.filter(day=DAY).count() == 0
    assert Component.objects.filter(day=DAY).count() == 0
    assert rows_by_table("pulpanalytics_report", NEXT) == {"pulpanalytics_report_p20310511": 2}
    assert rows_by_table("pulpanalytics_component", NEXT) == {
        "pulpanalytics_component_p20310511": 4
    }
    assert partitions.existing_days().count(NEXT) == 1
    assert summarize.prune_day(DAY) == 0


def test_a_day_in_the_default_partition_is_pruned_row_by_row(settings):
    settings.PRUNE_BATCH_SIZE = 2
    partitions.ensure([NEXT])
    for n in range(5):
        post(DAY, n)
    post(NEXT, 1)
    assert prune_counting_deletes(DAY) == (5, 3)  # batches of 2, 2 and 1 reports
    assert rows_by_table("pulpanalytics_report", DAY) == {}
    assert rows_by_table("pulpanalytics_component", DAY) == {}
    assert rows_by_table("pulpanalytics_report", NEXT) == {"pulpanalytics_report_p20310511": 1}


def test_summarize_makes_the_coming_days_partitions_and_drops_the_empty_old_ones(
    settings, summarize_at
):
    settings.PARTITION_DAYS_AHEAD = 2
    old = DAY - dt.timedelta(days=settings.RAW_RETENTION_DAYS + 1)
    partitions.ensure([old])
    lines = summarize_at(at(DAY, 1))
    assert lines == ["Summarized 0 days; pruned 0 raw systems"]
    days = partitions.existing_days()
    assert [day for day in days if day >= DAY] == [DAY, NEXT, LATER]
    assert old not in days


def test_a_duplicate_report_of_the_day_is_still_answered_as_one():
    partitions.ensure([DAY])
    assert post(DAY, 1) == "stored"
    assert post(DAY, 1) == "duplicate: already received today"
    assert post(NEXT, 1) == "stored"  # no partition: DEFAULT
    assert post(NEXT, 1) == "duplicate: already received today"
    assert Report.objects.count() == 2
    assert Component.objects.count() == 4


def test_forget_system_deletes_its_rows_from_every_partition():
    partitions.ensure([DAY])
    for day in (DAY, NEXT):  # NEXT has no partition: DEFAULT
        post(day, 1)
        post(day, 2)
    forgotten = forget_systems(system_hashes=[hash_system_id(system_id(1))])
    assert (forgotten.systems, forgotten.reports, forgotten.components) == (1, 2, 4)
    assert Report.objects.filter(day=DAY).count() == 1
    assert Report.objects.filter(day=NEXT).count() == 1
    assert Component.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_partition_change_behind_a_long_transaction_gives_up_with_a_clear_message(
    monkeypatch,
):
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "50ms")
    monkeypatch.setattr(partitions, "LOCK_RETRY_SECONDS", 0.0)
    other = psycopg2.connect(database_url(connection.settings_dict))
    try:
        with other.cursor() as cursor:
            # A reader (a backup, a long query) holds the weakest lock until it commits.
            cursor.execute("SELECT count(*) FROM pulpanalytics_report")
        with pytest.raises(partitions.PartitionsBusy) as busy:
            partitions.ensure([DAY])
    finally:
        other.close()
    assert str(busy.value) == (
        "could not lock pulpanalytics_system, pulpanalytics_report and pulpanalytics_component "
        "within 50ms (3 tries): "
        "a long transaction holds them (pg_stat_activity shows which); nothing is lost, the "
        "next summarize run tries again"
    )
    assert DAY not in partitions.existing_days()


def test_the_migration_moves_plain_tables_rows_into_day_partitions_and_keeps_their_ids():
    """0010 applied to the tables as 0001 made them (plain, rebuilt here): rows kept, in their
    day's partitions, and the next ids continue from the old sequences."""
    migration = importlib.import_module("pulpanalytics.migrations.0010_partition_raw_rows")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE pulpanalytics_component, pulpanalytics_report")
    with connection.schema_editor() as editor:
        editor.create_model(Report)
        editor.create_model(Component)
    for day in (DAY, NEXT):
        for n in range(2):
            assert post(day, n) == "stored"
    ids = sorted(Report.objects.values_list("id", flat=True))
    # As if the rows had committed: the old tables' deferred foreign key checks are done (a
    # table with checks pending in the transaction cannot be dropped).
    connection.check_constraints()
    migration.partition(None, SimpleNamespace(connection=connection))
    assert sorted(Report.objects.values_list("id", flat=True)) == ids
    assert rows_by_table("pulpanalytics_report", DAY) == {"pulpanalytics_report_p20310510": 2}
    assert rows_by_table("pulpanalytics_component", NEXT) == {
        "pulpanalytics_component_p20310511": 4
    }
    today = timezone.now().date()
    assert today in partitions.existing_days()
    assert post(NEXT, 2) == "stored"
    assert Report.objects.get(day=NEXT, system__system_hash=hash_system_id(system_id(2))).id == (
        ids[-1] + 1
    )
    assert post(NEXT, 1) == "duplicate: already received today"
    # Applied again (after a reverse, which changes nothing): nothing to do.
    migration.partition(None, SimpleNamespace(connection=connection))
    assert Report.objects.count() == 5
