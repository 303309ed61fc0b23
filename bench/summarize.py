"""Benchmark `manage.py summarize` on PostgreSQL against the bare SQL it cannot beat.

For each scenario the script fills a throw-away database quickly with COPY (not through HTTP):
one day of 1, 10 and 100 thousand systems (8 components each) and 30 days of 10 thousand. Then it
times `manage.py summarize` as cron runs it (wall clock and peak RSS of the process, Django
start-up included), the same work in-process (summarize.run() after start-up), and the floor:
one bare GROUP BY per statistic over the same rows. It prints summarize / floor, and the wall
time of the command run again with nothing left to do (its start-up).
"""

import csv
import io
import json
import random
import subprocess
from datetime import date, timedelta

import psycopg2

from bench.common import (
    PLUGINS,
    PYTHON,
    RBAC_MEASURES,
    ROOT,
    Stopwatch,
    benchmark_parser,
    django_env,
    drop_database,
    median,
    query,
    recreate_database,
    timed_command,
    write_results,
)

# One bare aggregate per statistic, as the metrics need them (the floor).
FLOOR_QUERIES = [
    "SELECT count(*), count(*) FILTER (WHERE age_days = 0), count(*) FILTER (WHERE age_days >= 1)"
    " FROM pulpanalytics_report WHERE day = %(day)s",
    "SELECT age_days, count(*) FROM pulpanalytics_report WHERE day = %(day)s GROUP BY age_days",
    "SELECT name, version, count(*) FROM pulpanalytics_component"
    " WHERE day = %(day)s AND age_days >= 1 GROUP BY name, version",
    "SELECT COALESCE((data->>'postgresql_version')::bigint, 0), count(*)"
    " FROM pulpanalytics_report WHERE day = %(day)s AND age_days >= 1 GROUP BY 1",
    *[
        f"SELECT avg((data->'{field}'->>'processes')::float), avg((data->'{field}'->>'hosts')"
        f"::float) FROM pulpanalytics_report WHERE day = %(day)s AND age_days >= 1"
        for field in ("online_workers", "online_content_apps")
    ],
    *[
        f"SELECT (data->'rbac_stats'->>'{measure}')::bigint AS n, count(*)"
        f" FROM pulpanalytics_report WHERE day = %(day)s AND age_days >= 1"
        f" AND data->'rbac_stats'->>'{measure}' IS NOT NULL GROUP BY n"
        for measure in RBAC_MEASURES
    ],
]

IN_PROCESS = """
import os, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
django.setup()
from django.utils import timezone
from pulpanalytics import summarize
start = time.perf_counter()
report = summarize.run(now=timezone.now())
print(time.perf_counter() - start, len(report.summarized))
"""


def versions_of(rnd: random.Random) -> dict[str, list[str]]:
    """A few dozen releases per plugin, so GROUP BY name, version has realistic groups."""
    return {
        name: [
            f"{rnd.randint(1, 4)}.{minor}.{patch}"
            for minor in range(rnd.randint(4, 12))
            for patch in range(3)
        ]
        for name in ["core", *PLUGINS]
    }


def fill(url: str, *, systems: int, days: list[date], seed: int = 1) -> tuple[int, int]:
    """COPY `systems` installs reporting on every day of `days`; (reports, components)."""
    rnd = random.Random(seed)
    versions = versions_of(rnd)
    first_day = days[0]
    system_rows, report_rows, component_rows = io.StringIO(), io.StringIO(), io.StringIO()
    systems_csv, reports_csv, components_csv = (
        csv.writer(f) for f in (system_rows, report_rows, component_rows)
    )
    first_seen = {}
    for n in range(1, systems + 1):
        # 3% are brand new on the first day, the rest have been around for up to two years.
        seen = first_day if rnd.random() < 0.03 else first_day - timedelta(rnd.randint(1, 700))
        first_seen[n] = seen
        systems_csv.writerow([n, f"{n:064x}", seen, days[-1]])
    report_id = component_id = 0
    for day in days:
        for n in range(1, systems + 1):
            report_id += 1
            age = (day - first_seen[n]).days
            data = {
                "online_workers": {"processes": rnd.randint(1, 20), "hosts": rnd.randint(1, 4)},
                "online_content_apps": {"processes": rnd.randint(1, 8), "hosts": rnd.randint(1, 2)},
            }
            if rnd.random() < 0.8:
                data["postgresql_version"] = rnd.choice([130012, 140010, 150006, 160002, 0])
            if rnd.random() < 0.7:
                data["rbac_stats"] = {m: rnd.randint(0, 40) for m in RBAC_MEASURES}
            reports_csv.writerow([report_id, n, day, age, json.dumps(data)])
            for name in ["core", *rnd.sample(PLUGINS, 7)]:
                component_id += 1
                components_csv.writerow(
                    [component_id, report_id, day, age, name, rnd.choice(versions[name])]
                )
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        for table, columns, rows in (
            ("pulpanalytics_system", "id, system_hash, first_seen, last_seen", system_rows),
            ("pulpanalytics_report", "id, system_id, day, age_days, data", report_rows),
            (
                "pulpanalytics_component",
                "id, report_id, day, age_days, name, version",
                component_rows,
            ),
        ):
            rows.seek(0)
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", rows)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    return report_id, component_id


def floor_seconds(url: str, days: list[date], repeats: int) -> float:
    """Median over `repeats` of the time the bare aggregates of every day take."""
    connection = psycopg2.connect(url)
    timings = []
    with connection.cursor() as cursor:
        for _ in range(repeats):
            with Stopwatch() as watch:
                for day in days:
                    for query in FLOOR_QUERIES:
                        cursor.execute(query, {"day": day})
                        cursor.fetchall()
            timings.append(watch.seconds)
    connection.close()
    return median(timings)


def clear_summaries(url: str) -> None:
    # Their chart points first: Django cascades in Python, the database does not.
    query(url, "DELETE FROM pulpanalytics_chartpoint")
    query(url, "DELETE FROM pulpanalytics_dailysummary")


def scenario(server: str, *, systems: int, day_count: int, repeats: int) -> dict:
    name = f"pulpanalytics_bench_summarize_{systems}_{day_count}"
    url = recreate_database(server, name)
    yesterday = date.today() - timedelta(days=1)
    days = [yesterday - timedelta(days=offset) for offset in range(day_count - 1, -1, -1)]
    reports, components = fill(url, systems=systems, days=days)
    # No prune inside the timing: the scenario's days are all within the retention.
    env = {"SUMMARIZE_GRACE_MINUTES": "0", "RAW_RETENTION_DAYS": str(day_count + 30)}
    walls, rss, in_process = [], [], []
    for _ in range(repeats):
        clear_summaries(url)
        wall, peak, output = timed_command(url, "summarize", **env)
        assert output.strip().splitlines()[-1].startswith(f"Summarized {day_count} day"), output
        walls.append(wall)
        rss.append(peak)
        clear_summaries(url)
        result = subprocess.run(
            [PYTHON, "-c", IN_PROCESS],
            cwd=ROOT,
            env=django_env(url, **env),
            check=True,
            capture_output=True,
            text=True,
        )
        seconds, summarized = result.stdout.split()
        assert int(summarized) == day_count
        in_process.append(float(seconds))
    # The same command again with every day summarized: what a run costs before any work
    # (Python, Django and the command's imports, and the queries that find nothing to do).
    idle = []
    for _ in range(repeats):
        wall, _, output = timed_command(url, "summarize", **env)
        assert output.strip().splitlines()[-1].startswith("Summarized 0 days"), output
        idle.append(wall)
    floor = floor_seconds(url, days, repeats)
    drop_database(server, name)
    return {
        "systems": systems,
        "days": day_count,
        "raw_reports": reports,
        "raw_components": components,
        "command_wall_s": median(walls),
        "idle_command_s": median(idle),
        "in_process_s": median(in_process),
        "floor_s": floor,
        "command_over_floor": median(walls) / floor,
        "in_process_over_floor": median(in_process) / floor,
        "peak_rss_mb": max(rss) / 1024,
    }


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument(
        "--sizes",
        default="1000,10000,100000",
        help="systems per one-day scenario, comma-separated (default: %(default)s)",
    )
    parser.add_argument(
        "--month-systems",
        type=int,
        default=10000,
        help="systems of the 30-day scenario, 0 to skip (default: %(default)s)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per scenario (median)")
    args = parser.parse_args()

    scenarios = [(int(size), 1) for size in args.sizes.split(",") if size]
    if args.month_systems:
        scenarios.append((args.month_systems, 30))
    results = []
    print(
        f"{'systems':>8} {'days':>4} {'components':>10} {'command':>8} {'in-proc':>8} "
        f"{'floor':>7} {'cmd/floor':>9} {'proc/floor':>10} {'peak RSS':>9} {'idle':>6}"
    )
    for systems, day_count in scenarios:
        row = scenario(args.server, systems=systems, day_count=day_count, repeats=args.repeats)
        results.append(row)
        print(
            f"{systems:>8,} {day_count:>4} {row['raw_components']:>10,} "
            f"{row['command_wall_s']:>7.2f}s {row['in_process_s']:>7.3f}s "
            f"{row['floor_s']:>6.3f}s {row['command_over_floor']:>9.1f} "
            f"{row['in_process_over_floor']:>10.2f} {row['peak_rss_mb']:>6.0f} MB "
            f"{row['idle_command_s']:>5.2f}s",
            flush=True,
        )
    one_day = [r for r in results if r["days"] == 1]
    if len(one_day) >= 2:
        small, large = one_day[0], one_day[-1]
        print(
            f"peak RSS {large['systems']:,} vs {small['systems']:,} systems: "
            f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x"
        )
    write_results(args.json, "summarize", {"scenarios": results})


if __name__ == "__main__":
    main()
