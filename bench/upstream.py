"""Benchmark `manage.py import_upstream` over three years of the old site's history.

Makes an upstream database of the old site's schema (tests/upstream_site.py) holding 1,095
summarized days with realistic counts (800 to 4,000 systems a day, 13 plugins released on their
own cadence, PostgreSQL versions, averages, RBAC numbers) and the raw reports of its last 14 days
(today's not summarized yet), filled with COPY. Then it times the import as an operator runs it
(`manage.py import_upstream --from`, wall clock and peak RSS), times a second run (which must
import nothing), and checks that our summaries, chart API and pages over that history give the
upstream numbers: every day's systems, new and persistent counts, and for a sample of days the
core X.Y counts, each plugin's systems and the averages.

    .venv/bin/python -m bench.upstream [--server postgres://postgres@127.0.0.1:5432] [--json f]
"""

import argparse
import io
import json
import os
import random
import re
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg2

from bench.common import (
    BENCH_ENV,
    DEFAULT_SERVER,
    ROOT,
    Stopwatch,
    drop_database,
    recreate_database,
    timed_command,
    write_results,
)
from tests import upstream_site

DAYS = 1095
RAW_DAYS = 14
SOURCE_DB = "pa_upstream_bench_src"
TARGET_DB = "pa_upstream_bench"
FILE_TARGET_DB = "pa_upstream_bench_file"
# (name, first X.Y minor, days between releases, share of persistent systems running it)
PLUGINS = [
    ("core", 14, 42, 1.0),
    ("file", 8, 60, 0.92),
    ("rpm", 14, 45, 0.55),
    ("container", 10, 50, 0.45),
    ("ansible", 15, 40, 0.2),
    ("python", 5, 70, 0.18),
    ("deb", 20, 55, 0.12),
    ("certguard", 1, 200, 0.1),
    ("gem", 4, 120, 0.04),
    ("maven", 1, 150, 0.03),
    ("ostree", 2, 90, 0.03),
    ("npm", 1, 180, 0.02),
    ("galaxy", 4, 60, 0.06),
]
MEASURES = ("users", "groups", "domains", "custom_access_policies", "custom_roles")
POSTGRESQL = [160002, 150006, 140011, 130015, 120019, 110022, 100023, 90624, 0]


def split(total: int, weights: list[float]) -> list[int]:
    """`total` in parts proportional to `weights`, summing exactly (largest remainder)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass
class Truth:
    """What the generator put in an upstream day: what our summary must say."""

    systems: int
    new: int
    persistent: int
    plugins: dict[str, int] = field(default_factory=dict)
    core_xy: dict[str, int] = field(default_factory=dict)
    workers: tuple[float, float] = (0.0, 0.0)


class History:
    """Three years of the old site's tables, as CSV text per table, and the truth per day."""

    def __init__(self, *, end: date, seed: int = 1) -> None:
        self.rnd = random.Random(seed)
        self.end = end
        self.days = [end - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
        self.rows: dict[str, io.StringIO] = {t: io.StringIO() for t in upstream_site.TABLES}
        self.truth: dict[date, Truth] = {}
        for number, day in enumerate(self.days):
            self.summarized_day(number, day)
        self.raw_reports()

    def write(self, table: str, *values: object) -> None:
        text = ("" if v is None else str(v) for v in values)  # CSV: unquoted empty is NULL
        self.rows[table].write(",".join(text) + "\n")

    def versions(self, number: int, first: int, cadence: int) -> list[tuple[str, int]]:
        """(X.Y, days since its release) of the releases out by day `number`, newest first."""
        released = number // cadence + 1
        minors = range(first + released - 1, max(first - 1, first + released - 9), -1)
        return [(f"3.{m}", number - (m - first) * cadence) for m in minors]

    def summarized_day(self, number: int, day: date) -> None:
        rnd = self.rnd
        growth = 800 + 3200 * number / DAYS
        systems = int(growth * (0.8 if day.isoweekday() > 5 else 1.0) * rnd.uniform(0.97, 1.03))
        if number == 400:  # an outage: a day with no reports at all
            systems = 0
        new = split(systems, [3, 97])[0] if systems else 0
        persistent = systems - new
        truth = Truth(systems, new, persistent)
        self.write("pulpanalytics_dailysummary", day)
        ages = [0, *range(1, 40)]
        for age, count in zip(
            ages, [new, *split(persistent, [0.8**a for a in range(1, 40)])], strict=True
        ):
            if count:
                self.write("pulpanalytics_agecount", day, age, count)
        for name, first, cadence, share in PLUGINS:
            running = round(persistent * share * rnd.uniform(0.97, 1.0))
            if not running:
                continue
            truth.plugins[name] = running
            versions = self.versions(number, first, cadence)
            # Newer releases gain share as they age; the newest has few systems.
            weights = [min(age + 1, 120) * 0.75**index for index, (_, age) in enumerate(versions)]
            for (xy, age), count in zip(versions, split(running, weights), strict=True):
                if not count:
                    continue
                self.write("pulpanalytics_xyversioncount", day, name, xy, count)
                if name == "core":
                    truth.core_xy[xy] = count
                patches = min(age // 14 + 1, 5)
                parts = split(count, [1.0 / (p + 1) for p in range(patches)])
                for patch, part in enumerate(parts):
                    if part:
                        version = f"{xy}.{age // 14 - patch}"
                        self.write("pulpanalytics_xyzversioncount", day, name, version, part)
        for version, count in zip(
            POSTGRESQL, split(persistent, [5, 9, 8, 6, 3, 1, 1, 0.5, 4]), strict=True
        ):
            if count:
                self.write("pulpanalytics_postgresversioncount", day, version, count)
        if persistent:
            workers = (rnd.uniform(2, 6), rnd.uniform(1, 2))
            apps = (rnd.uniform(1, 4), rnd.uniform(1, 2))
            truth.workers = workers
            self.write(
                "pulpanalytics_deploymentstats", day, workers[1], workers[0], apps[1], apps[0]
            )
        else:
            self.write("pulpanalytics_deploymentstats", day, None, None, None, None)
        for measure in MEASURES:
            # Before 2023-03, clients that sent no RBAC numbers were stored as 0.
            numbers = list(range(0, 30))
            for value, count in zip(
                numbers, split(persistent // 2, [0.85**n for n in numbers]), strict=True
            ):
                if count:
                    self.write("pulpanalytics_numbercount", day, measure, value, count)
        self.truth[day] = truth

    def raw_reports(self) -> None:
        """The last 14 days of raw reports (and today's, which upstream has not summarized)."""
        rnd = self.rnd
        pool = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(5000)]
        first_seen = {s: self.end - timedelta(days=rnd.randint(0, 200)) for s in pool}
        row_id = component_id = 0
        today = self.end + timedelta(days=1)
        for day in [*self.days[-RAW_DAYS + 1 :], today]:
            for system in rnd.sample(pool, 4000):
                row_id += 1
                created = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
                    seconds=rnd.randint(0, 86399 if day < today else 3600)
                )
                seen = min(first_seen[system], day)
                numbers = [rnd.randint(0, 20) for _ in MEASURES]
                self.write(
                    "pulpanalytics_system",
                    row_id,
                    system,
                    created.isoformat(),
                    datetime.combine(seen, datetime.min.time(), tzinfo=UTC).isoformat(),
                    rnd.choice(POSTGRESQL),
                    *numbers,
                    1,
                    rnd.randint(1, 4),
                    rnd.randint(1, 2),
                    rnd.randint(2, 8),
                )
                for name, first, _, share in PLUGINS:
                    if name == "core" or rnd.random() < share:
                        component_id += 1
                        version = f"3.{first + rnd.randint(0, 8)}.{rnd.randint(0, 5)}"
                        self.write("pulpanalytics_component", component_id, row_id, name, version)

    def copy_into(self, url: str) -> None:
        columns = {
            "pulpanalytics_dailysummary": "date",
            "pulpanalytics_agecount": "summary_id, age, count",
            "pulpanalytics_xyversioncount": "summary_id, name, version, count",
            "pulpanalytics_xyzversioncount": "summary_id, name, version, count",
            "pulpanalytics_postgresversioncount": "summary_id, version, count",
            "pulpanalytics_deploymentstats": "summary_id, online_worker_hosts_avg, "
            "online_worker_processes_avg, online_content_app_hosts_avg, "
            "online_content_app_processes_avg",
            "pulpanalytics_numbercount": "summary_id, name, number, count",
            "pulpanalytics_system": "id, system_id, created, first_seen, postgresql_version, "
            "users, groups, domains, custom_access_policies, custom_roles, content_app_hosts, "
            "content_app_processes, worker_hosts, worker_processes",
            "pulpanalytics_component": "id, system_id, name, version",
        }
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            for table in upstream_site.TABLES:
                self.rows[table].seek(0)
                cursor.copy_expert(
                    f"COPY {table} ({columns[table]}) FROM STDIN WITH (FORMAT csv)",
                    self.rows[table],
                )
            cursor.execute("ANALYZE")
        connection.close()

    def row_count(self) -> int:
        return sum(text.getvalue().count("\n") for text in self.rows.values())


def check(url: str, history: History, *, samples: int = 60) -> dict:
    """Compare our summaries, chart API and pages with the generated truth; the mismatches."""
    os.environ.update({**BENCH_ENV, "DATABASE_URL": url, "ALLOWED_HOSTS": "testserver,127.0.0.1"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    import django

    django.setup()
    from django.test import Client

    from pulpanalytics.models import DailySummary

    client = Client()
    mismatches: list[str] = []
    summaries = {d.date: json.loads(d.json) for d in DailySummary.objects.filter(source="upstream")}
    if len(summaries) != DAYS:
        mismatches.append(f"{len(summaries)} upstream summaries, not {DAYS}")
    with Stopwatch() as chart_time:
        systems = client.get("/api/v1/charts/systems/?range=all").json()
    by_label = dict(
        zip(
            systems["labels"],
            zip(*(d["data"] for d in systems["datasets"]), strict=True),
            strict=True,
        )
    )
    for day, truth in history.truth.items():
        summary = summaries.get(day, {})
        expected = (truth.systems, truth.new, truth.persistent)
        got = (
            summary.get("systems"),
            summary.get("new_systems"),
            summary.get("persistent_systems"),
        )
        if got != expected or by_label.get(day.isoformat()) != expected:
            mismatches.append(f"{day}: systems {got} / chart {by_label.get(day.isoformat())}")
    sample = random.Random(2).sample(sorted(history.truth), samples)
    with Stopwatch() as versions_time:
        core = client.get("/api/v1/charts/component-versions/?component=core&range=all").json()
    core_series = {d["label"]: d["data"] for d in core["datasets"]}
    for day in sample:
        truth, summary = history.truth[day], summaries[day]
        plugins = {c["name"]: c["systems"] for c in summary["components"]}
        core_xy = next(
            (
                {e["version"]: e["count"] for e in c["xy"]}
                for c in summary["components"]
                if c["name"] == "core"
            ),
            {},
        )
        index = core["labels"].index(day.isoformat())
        charted = {xy: data[index] for xy, data in core_series.items() if data[index]}
        workers = summary["online_workers"]
        averages = (workers["processes_avg"], workers["hosts_avg"])
        expected = tuple(round(v, 4) for v in truth.workers) if truth.persistent else (None, None)
        if plugins != truth.plugins or core_xy != truth.core_xy or charted != truth.core_xy:
            mismatches.append(f"{day}: components differ")
        if averages != expected:
            mismatches.append(f"{day}: averages {averages} != {expected}")
    from django.conf import settings
    from django.test import override_settings

    # The page as it renders, without collectstatic's manifest of hashed names.
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
        page = client.get("/?range=all").content.decode()
    first, last = history.days[0].isoformat(), history.days[-1].isoformat()
    if f"{DAYS} of these days ({first} to {last})" not in page:
        mismatches.append("the overview page does not note the upstream days")
    return {
        "checked_days": len(history.truth),
        "sampled_days": samples,
        "mismatches": mismatches,
        "systems_chart_3_years_cold_s": round(chart_time.seconds, 3),
        "core_versions_chart_3_years_cold_s": round(versions_time.seconds, 3),
    }


def from_file(server: str, source: str, target: str) -> dict:
    """The file README.md makes with psql, its size, and its import into a second database:
    time, peak RSS, and whether it gives the same summaries as the import from the database."""
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"```sh\n(PGTZ=UTC psql .*?)```", readme, re.DOTALL)[1]
    with tempfile.TemporaryDirectory() as folder:
        with Stopwatch() as dumped:
            env = {**os.environ, "OLD_DATABASE_URL": source}
            subprocess.run(["bash", "-c", command], cwd=folder, env=env, check=True)
        path = Path(folder) / "upstream.json"
        size = path.stat().st_size
        second = recreate_database(server, FILE_TARGET_DB)
        try:
            wall, rss, out = timed_command(second, "import_upstream", "--from-file", str(path))
            same = summaries_of(second) == summaries_of(target)
        finally:
            drop_database(server, FILE_TARGET_DB)
    print(
        f"From the file ({size / 1e6:.0f} MB, {dumped.seconds:.1f} s to make): {wall:.1f} s, "
        f"peak RSS {rss / 1024:.0f} MB, same summaries: {same}"
    )
    return {
        "file_mb": round(size / 1e6),
        "file_psql_s": round(dumped.seconds, 1),
        "file_import_s": wall,
        "file_import_peak_rss_mb": round(rss / 1024),
        "file_import_same_summaries": same,
    }


def summaries_of(url: str) -> dict:
    """Date -> the summary without its computed-at, as our database holds it."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT date, json FROM pulpanalytics_dailysummary")
        found = dict(cursor.fetchall())
    connection.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--json", help="merge the results into this JSON file")
    parser.add_argument(
        "--keep", action="store_true", help="keep our database (the upstream one is dropped)"
    )
    args = parser.parse_args()
    end = datetime.now(UTC).date() - timedelta(days=1)
    with Stopwatch() as made:
        history = History(end=end)
    print(f"Generated {DAYS:,} upstream days, {history.row_count():,} rows in {made.seconds:.1f} s")
    target = recreate_database(args.server, TARGET_DB)
    with upstream_site.throwaway_database(args.server, SOURCE_DB) as source:
        with Stopwatch() as filled:
            history.copy_into(source)
        print(f"Filled the upstream database in {filled.seconds:.1f} s")
        wall, rss, out = timed_command(target, "import_upstream", "--from", source)
        print(f"Import: {wall:.1f} s, peak RSS {rss / 1024:.0f} MB: {out.strip().splitlines()[-1]}")
        again, _, out_again = timed_command(target, "import_upstream", "--from", source)
        second = out_again.strip().splitlines()[-1]
        print(f"Second run: {again:.1f} s: {second}")
        results = {
            "days": DAYS,
            "upstream_rows": history.row_count(),
            "import_s": wall,
            "import_peak_rss_mb": round(rss / 1024),
            "import_last_line": out.strip().splitlines()[-1],
            "second_run_s": again,
            "second_run_last_line": second,
            "second_run_imports_nothing": second.startswith(
                "Imported 0 upstream summaries and 0 raw reports"
            ),
        }
        results.update(from_file(args.server, source, target))
        results.update(check(target, history))
    print(json.dumps(results, indent=2))
    write_results(args.json, "upstream", results)
    if not args.keep:
        drop_database(args.server, TARGET_DB)
    if (
        results["mismatches"]
        or not results["second_run_imports_nothing"]
        or not results["file_import_same_summaries"]
    ):
        raise SystemExit("the imported history does not match the upstream numbers")


if __name__ == "__main__":
    main()
