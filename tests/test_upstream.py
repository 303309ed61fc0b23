"""manage.py import_upstream: the old site's history becomes summaries, raw rows and registry."""

import json
import os
from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from pulpanalytics.models import ChartPoint, Component, DailySummary, Report, System
from pulpanalytics.summarize import compute_summary
from pulpanalytics.summary_pb2 import Summary
from pulpanalytics.system_ids import hash_system_id
from pulpanalytics.upstream_tables import (
    COUNT_TABLES,
    DEPLOYMENT_COLUMNS,
    REPORT_COLUMNS,
    DatabaseTables,
    FileTables,
)
from tests import upstream_site

pytestmark = pytest.mark.django_db

# Installations as the old site stored them: in clear.
A = "aaaaaaaa-1111-4111-8111-0123456789ab"
B = "bbbbbbbb-2222-4222-8222-0123456789ab"
C = "cccccccc-3333-4333-8333-0123456789ab"
D = "dddddddd-4444-4444-8444-0123456789ab"
E = "eeeeeeee-5555-4555-8555-0123456789ab"
CLEAR_IDS = (A, B, C, D, E)
NOW = datetime(2023, 3, 4, 12, 0, tzinfo=UTC)


def counts(table: str, day: str, *rows: tuple) -> list[dict]:
    columns = {
        "pulpanalytics_agecount": ("age", "count"),
        "pulpanalytics_xyversioncount": ("name", "version", "count"),
        "pulpanalytics_xyzversioncount": ("name", "version", "count"),
        "pulpanalytics_postgresversioncount": ("version", "count"),
        "pulpanalytics_numbercount": ("name", "number", "count"),
    }[table]
    return [{"summary_id": day, **dict(zip(columns, row, strict=True))} for row in rows]


def deployment(day: str, workers=(None, None), content_apps=(None, None)) -> dict:
    return {
        "summary_id": day,
        "online_worker_processes_avg": workers[0],
        "online_worker_hosts_avg": workers[1],
        "online_content_app_processes_avg": content_apps[0],
        "online_content_app_hosts_avg": content_apps[1],
    }


def report(row_id: int, system: str, created: str, first_seen: str, **numbers) -> dict:
    """A raw report row of the old site: postgresql_version 0 unless given (its default), every
    other number null unless given."""
    return {
        "id": row_id,
        "system_id": system,
        "created": created,
        "first_seen": first_seen,
        **{column: numbers.get(column) for column in REPORT_COLUMNS},
        "postgresql_version": numbers.get("postgresql_version", 0),
    }


def history() -> dict[str, list[dict]]:
    """Four summarized days (02-27 with RBAC zeros of clients that sent none, 02-28 without
    reports, 03-01, 03-02) and raw rows of 03-01 to 03-03 (03-03 summarized by neither site)."""
    return {
        "pulpanalytics_dailysummary": [
            {"date": day} for day in ("2023-02-27", "2023-02-28", "2023-03-01", "2023-03-02")
        ],
        "pulpanalytics_agecount": [
            *counts("pulpanalytics_agecount", "2023-02-27", (0, 2), (1, 3), (20, 1)),
            *counts("pulpanalytics_agecount", "2023-03-01", (0, 1), (5, 2)),
            *counts("pulpanalytics_agecount", "2023-03-02", (0, 4)),
        ],
        "pulpanalytics_xyversioncount": [
            *counts(
                "pulpanalytics_xyversioncount",
                "2023-02-27",
                ("core", "3.21", 3),
                ("core", "3.22", 1),
                ("rpm", "3.19", 2),
                ("Bad Name", "1.0", 1),
            ),
            *counts("pulpanalytics_xyversioncount", "2023-03-01", ("core", "3.22", 2)),
        ],
        "pulpanalytics_xyzversioncount": [
            *counts(
                "pulpanalytics_xyzversioncount",
                "2023-02-27",
                ("core", "3.21.0", 2),
                ("core", "3.21.4", 1),
                ("core", "3.22.1", 1),
                ("rpm", "3.19.2", 2),
                ("Bad Name", "1.0.0", 1),
            ),
            *counts("pulpanalytics_xyzversioncount", "2023-03-01", ("core", "3.22.1", 2)),
        ],
        "pulpanalytics_postgresversioncount": counts(
            "pulpanalytics_postgresversioncount", "2023-02-27", (130004, 3), (0, 1)
        ),
        "pulpanalytics_deploymentstats": [
            deployment("2023-02-27", workers=(2.123456, 1.5), content_apps=(2.0, 1.0)),
            deployment("2023-02-28"),
            deployment("2023-03-01", workers=(4.0, 2.0)),
            deployment("2023-03-02"),
        ],
        "pulpanalytics_numbercount": [
            *counts(
                "pulpanalytics_numbercount",
                "2023-02-27",
                ("users", 0, 3),
                ("users", 3, 1),
                ("groups", 0, 4),
            ),
            *counts("pulpanalytics_numbercount", "2023-03-01", ("users", 0, 2), ("domains", 0, 2)),
        ],
        "pulpanalytics_system": [
            report(1, A, "2023-03-01T08:00:00+00:00", "2023-01-10T09:00:00+00:00", users=0),
            report(2, E, "2023-03-01T09:00:00+00:00", "2023-02-15T09:00:00+00:00"),
            report(3, D, "2023-03-02T10:00:00+00:00", "2023-02-01T00:00:00+00:00"),
            report(
                4,
                A,
                "2023-03-03T23:59:59+00:00",
                "2023-01-10T09:00:00+00:00",
                postgresql_version=150002,
                worker_processes=6,
                worker_hosts=2,
                users=0,
            ),
            report(5, B, "2023-03-03T01:00:00+00:00", "2023-03-03T01:00:00+00:00", users=5),
            report(6, C, "2023-03-03T02:00:00+00:00", "2023-03-01T00:00:00+00:00"),
        ],
        "pulpanalytics_component": [
            {"system_id": 1, "name": "core", "version": "3.22.1"},
            {"system_id": 4, "name": "core", "version": "3.22.1"},
            {"system_id": 4, "name": "rpm", "version": "3.19.2"},
            {"system_id": 5, "name": "core", "version": "3.22.0"},
            {"system_id": 6, "name": "core", "version": "3.22.1"},
            {"system_id": 6, "name": "Bad Name", "version": "1.0.0"},
        ],
    }


@pytest.fixture
def upstream_file(tmp_path):
    return upstream_site.write_file(tmp_path / "upstream.json", history())


@pytest.fixture
def ours():
    """This site before the import: its own summary of 2023-03-02, systems D and E known."""
    made_here = {**compute_summary(date(2023, 3, 2)), "systems": 99}
    DailySummary.objects.create(date=date(2023, 3, 2), json=json.dumps(made_here), computed_at=NOW)
    System.objects.create(
        system_hash=hash_system_id(D), first_seen=date(2023, 1, 1), last_seen=date(2023, 3, 2)
    )
    e = System.objects.create(
        system_hash=hash_system_id(E), first_seen=date(2023, 3, 3), last_seen=date(2023, 3, 3)
    )
    report = Report.objects.create(system=e, day=date(2023, 3, 3), age_days=0, data={})
    Component.objects.create(
        report=report, day=report.day, age_days=0, name="core", version="3.22.1"
    )


def import_upstream(*args: str) -> list[str]:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("import_upstream", *args, stdout=out)
    return out.getvalue().splitlines()


def summary_of(day: str) -> dict:
    return json.loads(DailySummary.objects.get(date=day).json)


def test_an_upstream_day_maps_to_every_number_of_our_summary(upstream_file, ours):
    import_upstream("--from-file", str(upstream_file))
    day = summary_of("2023-02-27")
    assert day["source"] == "upstream"
    assert (day["systems"], day["new_systems"], day["persistent_systems"]) == (6, 2, 4)
    assert day["age"] == [
        {"days": 0, "count": 2},
        {"days": 1, "count": 3},
        {"days": 20, "count": 1},
    ]
    core, rpm, other = day["components"]
    assert core == {
        "name": "core",
        "systems": 4,
        "xy": [{"version": "3.22", "count": 1}, {"version": "3.21", "count": 3}],
        "xyz": [
            {"version": "3.22.1", "count": 1},
            {"version": "3.21.4", "count": 1},
            {"version": "3.21.0", "count": 2},
        ],
    }
    assert (rpm["name"], rpm["systems"], rpm["xy"]) == ("rpm", 2, [{"version": "3.19", "count": 2}])
    # A name that is no plugin label is counted in "other", as summarize counts it.
    assert other == {"name": "other", "systems": 1, "xy": [], "xyz": [], "other": True}
    assert day["postgresql_versions"] == [
        {"version": 130004, "count": 3},
        {"version": 0, "count": 1},
    ]
    # The old site never measured percentiles: null.
    percentiles = {"processes_p50": None, "processes_p90": None, "hosts_p50": None}
    percentiles["hosts_p90"] = None
    assert day["online_workers"] == {"processes_avg": 2.1235, "hosts_avg": 1.5, **percentiles}
    assert day["online_content_apps"] == {"processes_avg": 2.0, "hosts_avg": 1.0, **percentiles}


def test_rbac_zeros_before_march_2023_are_clients_that_sent_none_and_are_left_out(
    upstream_file, ours
):
    import_upstream("--from-file", str(upstream_file))
    assert summary_of("2023-02-27")["rbac"] == [{"measure": "users", "number": 3, "count": 1}]
    assert summary_of("2023-03-01")["rbac"] == [
        {"measure": "users", "number": 0, "count": 2},
        {"measure": "domains", "number": 0, "count": 2},
    ]


def test_a_day_without_reports_has_zero_systems_empty_lists_and_null_averages(upstream_file):
    import_upstream("--from-file", str(upstream_file))
    day = summary_of("2023-02-28")
    assert (day["systems"], day["new_systems"], day["persistent_systems"]) == (0, 0, 0)
    assert day["age"] == day["components"] == day["postgresql_versions"] == day["rbac"] == []
    assert day["online_workers"] == {
        "processes_avg": None,
        "hosts_avg": None,
        "processes_p50": None,
        "processes_p90": None,
        "hosts_p50": None,
        "hosts_p90": None,
    }


def test_an_imported_summary_has_every_key_of_summary_proto_in_its_order(upstream_file):
    import_upstream("--from-file", str(upstream_file))
    stored = DailySummary.objects.get(date="2023-03-01")
    assert list(json.loads(stored.json)) == [f.name for f in Summary.DESCRIPTOR.fields]
    assert stored.source == "upstream"


def test_a_day_summarized_here_is_never_overwritten(upstream_file, ours):
    import_upstream("--from-file", str(upstream_file))
    kept = DailySummary.objects.get(date="2023-03-02")
    assert (json.loads(kept.json)["systems"], kept.source) == (99, "summarize")


def test_raw_reports_of_days_neither_site_summarized_become_ours_and_summarize_makes_them(
    upstream_file, ours, summarize_at
):
    last = import_upstream("--from-file", str(upstream_file))[-1]
    assert last == (
        "Imported 3 upstream summaries and 2 raw reports of 1 day; registry: 3 new systems, "
        "1 first seen earlier; left out 1 report ingest would refuse"
    )
    # Of 03-03: A (first seen 01-10) and B (new); C's report names "Bad Name" and is left out.
    a = Report.objects.get(system__system_hash=hash_system_id(A), day="2023-03-03")
    assert a.age_days == 52
    assert a.data == {
        "online_workers": {"processes": 6, "hosts": 2},
        "postgresql_version": 150002,
        "rbac_stats": {"users": 0},
    }
    assert sorted(a.components.values_list("name", "version")) == [
        ("core", "3.22.1"),
        ("rpm", "3.19.2"),
    ]
    assert not Report.objects.filter(system__system_hash=hash_system_id(C)).exists()
    summarize_at(datetime(2023, 3, 4, 1, 0, tzinfo=UTC))
    made = summary_of("2023-03-03")
    assert made["source"] == "summarize"
    # A, B and E (ours, now first seen 02-15 as upstream knew it): E and A persistent.
    assert (made["systems"], made["new_systems"], made["persistent_systems"]) == (3, 1, 2)
    assert made["components"][0]["xy"] == [{"version": "3.22", "count": 2}]


def test_the_registry_is_seeded_with_upstream_first_seen_and_never_made_later(upstream_file, ours):
    import_upstream("--from-file", str(upstream_file))
    seen = {
        clear: System.objects.values_list("first_seen", "last_seen").get(
            system_hash=hash_system_id(clear)
        )
        for clear in CLEAR_IDS
    }
    assert seen[A] == (date(2023, 1, 10), date(2023, 3, 3))
    assert seen[C] == (date(2023, 3, 1), date(2023, 3, 3))  # left out, but an installation
    assert seen[D] == (date(2023, 1, 1), date(2023, 3, 2))  # ours was earlier: kept
    assert seen[E] == (date(2023, 2, 15), date(2023, 3, 3))
    # E's raw row stored here before the import counts its age from the earlier first_seen.
    assert Report.objects.get(system__system_hash=hash_system_id(E)).age_days == 16
    assert Component.objects.get(report__system__system_hash=hash_system_id(E)).age_days == 16


def test_summarize_refuses_to_remake_an_imported_day_it_has_no_raw_rows_of(upstream_file):
    import_upstream("--from-file", str(upstream_file))
    before = DailySummary.objects.get(date="2023-03-01").json
    refused = pytest.raises(CommandError, match="imported from the old site")
    with refused, time_machine.travel(NOW, tick=False):
        call_command("summarize", "--date", "2023-03-01", stdout=StringIO())
    assert DailySummary.objects.get(date="2023-03-01").json == before


def test_a_second_run_imports_nothing(upstream_file, ours):
    import_upstream("--from-file", str(upstream_file))
    before = (DailySummary.objects.count(), Report.objects.count(), ChartPoint.objects.count())
    last = import_upstream("--from-file", str(upstream_file))[-1]
    assert last.startswith(
        "Imported 0 upstream summaries and 0 raw reports of 0 days; registry: 0 new systems, "
        "0 first seen earlier"
    )
    after = (DailySummary.objects.count(), Report.objects.count(), ChartPoint.objects.count())
    assert after == before


def test_a_dry_run_writes_nothing_and_says_what_it_would_import(upstream_file, ours):
    lines = import_upstream("--from-file", str(upstream_file), "--dry-run")
    assert "Upstream summaries to import: 3 days, 2023-02-27 to 2023-03-01" in lines
    assert lines[-1].startswith(
        "Dry run: would import 3 upstream summaries and 2 raw reports of 1 day; "
        "registry: 3 new systems, 1 first seen earlier"
    )
    assert DailySummary.objects.count() == 1
    assert System.objects.count() == Report.objects.count() + 1 == 2


def test_no_clear_id_reaches_our_database_or_the_output(upstream_file, ours, capsys, caplog):
    lines = import_upstream("--from-file", str(upstream_file), "-v", "2")
    import_upstream("--from-file", str(upstream_file), "--dry-run")
    dumped = StringIO()
    call_command("dumpdata", "pulpanalytics", stdout=dumped)
    captured = capsys.readouterr()
    everything = "\n".join([dumped.getvalue(), *lines, captured.out, captured.err, caplog.text])
    for clear in CLEAR_IDS:
        for form in (clear, clear.replace("-", ""), clear.upper()):
            assert form not in everything
    assert hash_system_id(A) in dumped.getvalue()


def test_imported_days_have_chart_points_and_charts_read_them(upstream_file, ours, client):
    import_upstream("--from-file", str(upstream_file))
    assert ChartPoint.objects.filter(date="2023-02-27", chart="systems").exists()
    data = client.get("/api/v1/charts/systems/?start=2023-02-27&end=2023-03-01").json()
    assert data["labels"] == ["2023-02-27", "2023-02-28", "2023-03-01"]
    assert data["datasets"][0]["data"] == [6, 0, 3]


def test_pages_whose_days_include_upstream_days_say_so(upstream_file, ours, client):
    import_upstream("--from-file", str(upstream_file))
    page = client.get("/age/?start=2023-02-20&end=2023-03-02").content.decode()
    assert "3 of these days (2023-02-27 to 2023-03-01)" in page
    assert "ages above about 14 days" in page
    later = client.get("/age/?start=2023-03-02&end=2023-03-02").content.decode()
    assert "of these days" not in later


def test_a_file_that_is_not_the_old_sites_tables_is_refused(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"pulpanalytics_dailysummary": []}))
    with pytest.raises(CommandError, match="pulpanalytics_agecount is missing"):
        import_upstream("--from-file", str(broken))
    broken.write_text("[1, 2")
    with pytest.raises(CommandError, match="cannot read"):
        import_upstream("--from-file", str(broken))


@pytest.fixture
def upstream_database():
    """The history in a throw-away PostgreSQL database of the old site's schema."""
    server = upstream_site.server_url(connection.settings_dict)
    name = f"pa_upstream_src_{os.getpid()}"
    with upstream_site.throwaway_database(server, name) as url:
        upstream_site.fill(url, history())
        yield url


@pytest.mark.postgres_only
def test_the_import_from_the_old_database_equals_the_import_from_its_file(
    upstream_database, upstream_file, ours
):
    before = upstream_site.table_counts(upstream_database)
    import_upstream("--from", upstream_database)
    from_database = {d.date: d.json for d in DailySummary.objects.filter(source="upstream")}
    assert upstream_site.table_counts(upstream_database) == before
    assert import_upstream("--from", upstream_database)[-1].startswith("Imported 0 upstream")
    DailySummary.objects.filter(source="upstream").delete()
    import_upstream("--from-file", str(upstream_file))
    from_file = {d.date: d.json for d in DailySummary.objects.filter(source="upstream")}
    assert from_database == from_file
    assert len(from_file) == 3


@pytest.mark.postgres_only
def test_the_old_database_is_read_in_a_read_only_transaction(upstream_database):
    import psycopg2

    tables = DatabaseTables(upstream_database)
    try:
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction), tables.connection.cursor() as c:
            c.execute("DELETE FROM pulpanalytics_agecount")
    finally:
        tables.close()


@pytest.mark.postgres_only
def test_our_own_database_is_refused_as_an_upstream_one():
    settings = connection.settings_dict
    url = f"{upstream_site.server_url(settings)}/{settings['NAME']}"
    with pytest.raises(CommandError, match="not an upstream Pulp analytics database"):
        import_upstream("--from", url)


@pytest.mark.postgres_only
def test_the_file_readme_makes_with_psql_reads_as_the_database_does(upstream_database, tmp_path):
    import re
    import shutil
    import subprocess
    from pathlib import Path

    # The PostgreSQL tests run beside a PostgreSQL server, whose client package brings psql.
    assert shutil.which("psql"), "psql is needed: install PostgreSQL's client (postgresql-client)"
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    command = re.search(r"```sh\n(PGTZ=UTC psql .*?)```", readme, re.DOTALL)[1]
    env = {**os.environ, "OLD_DATABASE_URL": upstream_database}
    subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, check=True)
    from_file = FileTables(tmp_path / "upstream.json")
    from_database = DatabaseTables(upstream_database)
    try:
        days = from_database.summarized_days()
        assert from_file.summarized_days() == days
        for day in days:
            assert _sorted(from_file.day_tables(day)) == _sorted(from_database.day_tables(day))
        assert from_file.report_days() == from_database.report_days()
        assert sorted(from_file.registry(), key=str) == sorted(from_database.registry(), key=str)
        for day in from_database.report_days():
            assert list(from_file.reports(day)) == list(from_database.reports(day))
    finally:
        from_database.close()


def _sorted(tables) -> tuple:
    counts = {
        name: sorted(([row[c] for c in COUNT_TABLES[name]] for row in rows), key=str)
        for name, rows in tables.counts.items()
    }
    deployment = [(tables.deployment or {}).get(column) for column in DEPLOYMENT_COLUMNS]
    return counts, deployment


def test_progress_is_a_bar_on_a_terminal_and_about_ten_lines_in_a_log(tmp_path):
    days = [f"2022-01-{n:02d}" for n in range(1, 31)]
    tables = {"pulpanalytics_dailysummary": [{"date": day} for day in days]}
    path = upstream_site.write_file(tmp_path / "thirty.json", tables)
    logged = import_upstream("--dry-run", "--from-file", str(path))
    assert [line for line in logged if line.startswith("Day ")] == [
        f"Day {n}/30 (2022-01-{n:02d}): would import its summary" for n in range(3, 31, 3)
    ]

    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    with time_machine.travel(NOW, tick=False):
        call_command("import_upstream", "--from-file", str(path), stdout=out)
    text = out.getvalue()
    assert text.count("\r[") == 30
    assert "\r[##############################] day 30/30 2022-01-30: imported its summary" in text
    assert text.endswith(
        "\nImported 30 upstream summaries and 0 raw reports of 0 days; "
        "registry: 0 new systems, 0 first seen earlier\n"
    )


@pytest.mark.postgres_only
def test_a_lost_upstream_connection_stops_the_run_with_an_error_and_a_rerun_goes_on(
    upstream_database, monkeypatch
):
    import psycopg2

    from pulpanalytics import upstream

    real = upstream.store_upstream_summary
    stored = []

    def store_then_lose(day, tables, *, now):
        if len(stored) == 2:
            raise psycopg2.OperationalError("server closed the connection unexpectedly")
        stored.append(day)
        return real(day, tables, now=now)

    monkeypatch.setattr(upstream, "store_upstream_summary", store_then_lose)
    with pytest.raises(CommandError, match="reading the upstream database failed"):
        import_upstream("--from", upstream_database)
    assert DailySummary.objects.count() == 2
    monkeypatch.setattr(upstream, "store_upstream_summary", real)
    assert import_upstream("--from", upstream_database)[-1].startswith(
        "Imported 2 upstream summaries and 2 raw reports of 1 day"
    )


def test_the_import_records_each_systems_activity_for_the_cohorts(upstream_file, ours):
    from pulpanalytics.models import SystemMonth

    import_upstream("--from-file", str(upstream_file))

    def days_of(clear: str) -> dict[str, int]:
        rows = SystemMonth.objects.filter(system__system_hash=hash_system_id(clear))
        return {str(month): days for month, days in rows.values_list("month", "days")}

    # A: first seen 2023-01-10, a raw report of 2023-03-03 imported (and last seen that day).
    assert days_of(A) == {"2023-01-01": 1 << 9, "2023-03-01": 1 << 2}
    # C: its report was left out, but the old site saw it on 2023-03-01 and 2023-03-03.
    assert days_of(C) == {"2023-03-01": (1 << 0) | (1 << 2)}
