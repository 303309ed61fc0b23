"""Benchmark the public site with years of history: every page and every chart/summary API path.

Generates daily summaries (default 3 years) with realistic churn: a growing fleet, plugins of
different popularity, core and plugin releases every few weeks adopted with a lag, PostgreSQL
majors moving on, ages spread over the years. Stores them as DailySummary rows of a throw-away
PostgreSQL database, runs `manage.py summarize` (which makes their chart points, as after a deploy
that changed the charts; timed), serves the site with gunicorn (the production config, built
static files) and times each path cold (the chart cache emptied before each request) and warm:
p50/p99 and bytes. The chart cache lives in each worker's memory: a cold request goes to a fresh
worker. Then it visits `/` in headless Chromium and counts the requests and bytes of one visit.
"""

import json
import math
import random
import re
import signal
import time
from datetime import UTC, date, datetime, timedelta

import psycopg2
from psycopg2.extras import execute_values

from bench.common import (
    RBAC_MEASURES,
    benchmark_parser,
    drop_database,
    median,
    percentile,
    recreate_database,
    run_manage,
    start_gunicorn,
    write_results,
)
from bench.server import CHROMIUM, CHROMIUM_ARGS, Gunicorn, children, request

# Share of persistent systems running each plugin, and how often it releases (days).
PLUGINS = {
    "core": (1.0, 28),
    "file": (0.82, 35),
    "rpm": (0.55, 21),
    "container": (0.46, 28),
    "ansible": (0.3, 42),
    "python": (0.3, 35),
    "certguard": (0.22, 90),
    "deb": (0.15, 42),
    "galaxy": (0.1, 30),
    "gem": (0.08, 60),
    "ostree": (0.06, 60),
    "maven": (0.05, 90),
    "npm": (0.03, 120),
    "cookbook": (0.02, 120),
}
# The share of installs moving from an older release to the newest one each day.
UPGRADE_RATE = 0.025


class Releases:
    """One plugin's releases: X.Y.0 every `cadence` days, patches between, adopted with a lag."""

    def __init__(self, rnd: random.Random, cadence: int, first_minor: int) -> None:
        self.rnd, self.cadence = rnd, cadence
        self.major, self.minor, self.patch = 3 if cadence < 40 else 1, first_minor, 0
        self.shares = {self.version: 1.0}
        self.next_release = rnd.randint(1, cadence)

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def day(self) -> None:
        self.next_release -= 1
        if self.next_release <= 0:
            if self.rnd.random() < 0.4:
                self.patch += 1
            else:
                self.minor, self.patch = self.minor + 1, 0
            self.shares.setdefault(self.version, 0.0)
            self.next_release = max(3, int(self.rnd.gauss(self.cadence / 2, self.cadence / 6)))
        newest = self.version
        for version in list(self.shares):
            if version != newest:
                moved = self.shares[version] * UPGRADE_RATE
                self.shares[version] -= moved
                self.shares[newest] += moved
                if self.shares[version] < 0.001:
                    self.shares[newest] += self.shares.pop(version)

    def counts(self, systems: int) -> dict[str, int]:
        return {
            v: round(share * systems)
            for v, share in self.shares.items()
            if round(share * systems) > 0
        }


def version_sorted(counts: dict[str, int]) -> list[dict]:
    key = lambda v: tuple(int(p) for p in v.split("."))  # noqa: E731
    return [{"version": v, "count": counts[v]} for v in sorted(counts, key=key, reverse=True)]


def generate(days: int, seed: int = 1) -> list[dict]:
    """`days` summaries ending yesterday, in summary.proto's JSON form."""
    rnd = random.Random(seed)
    end = datetime.now(UTC).date() - timedelta(days=1)
    releases = {
        name: Releases(rnd, cadence, rnd.randint(0, 30)) for name, (_, cadence) in PLUGINS.items()
    }
    postgres = {120015: 0.3, 130011: 0.35, 140008: 0.25, 150003: 0.1}
    summaries = []
    for index in range(days):
        day = end - timedelta(days=days - 1 - index)
        for plugin in releases.values():
            plugin.day()
        if index % 365 == 200:  # a new PostgreSQL major every autumn
            newest = max(postgres) + 10000
            postgres[newest] = 0.0
        for version in postgres:
            postgres[version] *= 0.997
        newest = max(postgres)
        postgres[newest] += 1 - sum(postgres.values())
        trend = 2000 + 5000 * index / days
        weekly = 0.93 if day.weekday() >= 5 else 1.0
        systems = int(trend * weekly * rnd.uniform(0.98, 1.02))
        new = int(systems * rnd.uniform(0.02, 0.04))
        persistent = systems - new
        ages = {0: new}
        horizon = index + 400
        for age in range(1, horizon):
            weight = math.exp(-age / 500) * (systems / 600)
            count = int(weight * rnd.uniform(0.4, 1.6))
            if count:
                ages[age] = count
        components = []
        for name, (share, _) in PLUGINS.items():
            running = int(persistent * share * rnd.uniform(0.97, 1.03))
            xyz = releases[name].counts(running)
            xy: dict[str, int] = {}
            for version, count in xyz.items():
                short = ".".join(version.split(".")[:2])
                xy[short] = xy.get(short, 0) + count
            components.append(
                {
                    "name": name,
                    "systems": sum(xyz.values()),
                    "xy": version_sorted(xy),
                    "xyz": version_sorted(xyz),
                }
            )
        components.sort(key=lambda c: c["name"])
        rbac = []
        for measure in RBAC_MEASURES:
            reporting = int(persistent * 0.7)
            for number in range(0, 40):
                count = int(reporting * math.exp(-number / 6) / 6 * rnd.uniform(0.8, 1.2))
                if count:
                    rbac.append({"measure": measure, "number": number, "count": count})
        summaries.append(
            {
                "date": day.isoformat(),
                "systems": systems,
                "new_systems": new,
                "persistent_systems": persistent,
                "age": [{"days": a, "count": c} for a, c in sorted(ages.items())],
                "components": components,
                "postgresql_versions": [
                    {"version": v, "count": round(persistent * postgres[v] * 0.9)}
                    for v in sorted(postgres, reverse=True)
                    if round(persistent * postgres[v] * 0.9)
                ]
                + [{"version": 0, "count": round(persistent * 0.1)}],
                "online_workers": {
                    "processes_avg": round(rnd.uniform(4, 6), 4),
                    "hosts_avg": round(rnd.uniform(1.2, 1.6), 4),
                },
                "online_content_apps": {
                    "processes_avg": round(rnd.uniform(2, 3), 4),
                    "hosts_avg": round(rnd.uniform(1, 1.3), 4),
                },
                "rbac": rbac,
            }
        )
    return summaries


def store(url: str, summaries: list[dict]) -> int:
    rows = [(s["date"], json.dumps(s, separators=(",", ":")), datetime.now(UTC)) for s in summaries]
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        execute_values(
            cursor,
            "INSERT INTO pulpanalytics_dailysummary (date, json, computed_at) VALUES %s",
            rows,
        )
    connection.close()
    return sum(len(text) for _, text, _ in rows)


def make_points(url: str) -> tuple[float, str]:
    """`manage.py summarize` on summaries without chart points: its wall time and last line."""
    start = time.perf_counter()
    done = run_manage(url, "summarize")
    seconds = time.perf_counter() - start
    # 40,000 new rows start autovacuum's analyze of the points table a minute later, and their
    # pages a checkpoint a few minutes later, in the middle of the measurements; a site that has
    # run for a night has had both.
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) pulpanalytics_chartpoint, pulpanalytics_dailysummary")
        cursor.execute("CHECKPOINT")
    connection.close()
    return seconds, done.stdout.strip().splitlines()[-1]


def paths(port: int, summaries: list[dict]) -> list[str]:
    """Every page, and every chart and summary API path, with the parameters they need."""
    latest = summaries[-1]["date"]
    month_ago = (date.fromisoformat(latest) - timedelta(days=29)).isoformat()
    pages = [
        # The stack's own floor: no database, no template (a repeat visit of a page is held to
        # twice its median).
        "/healthz",
        "/",
        "/plugins/",
        "/plugins/core/",
        "/plugins/rpm/",
        "/deployments/",
        "/postgresql/",
        "/age/",
        "/rbac/",
        "/about/",
    ]
    api = [
        f"/api/v1/summaries/{latest}/",
        f"/api/v1/summaries/?start={month_ago}",
        "/api/v1/summaries/",
        "/api/v1/charts/",
        "/api/v1/openapi.json",
    ]
    listing = json.loads(request(port, "GET", "/api/v1/charts/", timeout=30).body)["charts"]
    for chart in listing:
        query = "?component=core" if "component" in chart["parameters"] else ""
        api.append(chart["url"] + query)
    api += [
        "/api/v1/charts/systems/?range=90d",
        "/api/v1/charts/systems/?granularity=month",
        "/api/v1/charts/component-versions/?component=core&mode=percent&range=1y",
    ]
    return pages + api


def get(port: int, path: str) -> tuple[int, int, float]:
    start = time.perf_counter()
    response = request(port, "GET", path, timeout=60)
    return response.status, len(response.body), time.perf_counter() - start


def fresh_worker(port: int, server: Gunicorn) -> None:
    """Replace the worker (SIGHUP) so the chart cache, which lives in its memory, is empty; then
    warm the new process on a page that uses no chart data, so only the cache is cold."""
    old = set(children(server.pid))
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = set(children(server.pid))
        if now and not now & old:
            try:
                if get(port, "/about/")[0] == 200:
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise SystemExit("gunicorn did not replace its worker within 30 s")


def time_paths(
    port: int, server: Gunicorn, summaries: list[dict], cold: int, warm: int, match: str = ""
) -> list[dict]:
    """Each path's cold median and warm p50/p99. The cold samples go round the paths `cold`
    times rather than path by path, so that a few seconds of something else on this shared
    machine spoil at most one sample of a path, and the median drops it."""
    every = [p for p in paths(port, summaries) if re.search(match, p) or p == "/healthz"]
    cold_times: dict[str, list[float]] = {path: [] for path in every}
    sizes: dict[str, int] = {}
    for _ in range(cold):
        for path in every:
            fresh_worker(port, server)
            status, sizes[path], seconds = get(port, path)
            assert status == 200, (path, status)
            cold_times[path].append(seconds)
    rows = []
    for path in every:
        get(port, path)  # the first request after the cold rounds may be a cold one
        warm_times = [get(port, path)[2] for _ in range(warm)]
        rows.append(
            {
                "path": path,
                "bytes": sizes[path],
                "cold_ms": median(cold_times[path]) * 1000,
                "cold_samples_ms": [round(t * 1000, 1) for t in cold_times[path]],
                "warm_p50_ms": percentile(warm_times, 0.5) * 1000,
                "warm_p99_ms": percentile(warm_times, 0.99) * 1000,
            }
        )
        print(
            f"{path:<75} cold {rows[-1]['cold_ms']:7.1f} ms {rows[-1]['cold_samples_ms']} "
            f"warm p50 {rows[-1]['warm_p50_ms']:6.2f} p99 {rows[-1]['warm_p99_ms']:6.2f} ms  "
            f"{sizes[path]:>9,} B",
            flush=True,
        )
    return rows


def visit(port: int) -> dict:
    """One visit of / in headless Chromium: every request the page makes, and the bytes."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    transferred = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle")
        for entry in page.evaluate(
            "performance.getEntriesByType('navigation').concat("
            "performance.getEntriesByType('resource')).map(e => e.transferSize)"
        ):
            transferred += entry
        browser.close()
    return {"requests": len(requests), "bytes": transferred, "urls": requests}


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--days", type=int, default=3 * 365, help="days of summaries")
    parser.add_argument("--cold", type=int, default=3, help="cold requests per path (median)")
    parser.add_argument("--warm", type=int, default=40, help="warm requests per path")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gunicorn workers; the client is sequential (default: %(default)s)",
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium visit")
    parser.add_argument("--match", default="", help="only the paths this regular expression finds")
    args = parser.parse_args()

    name = "pulpanalytics_bench_site"
    url = recreate_database(args.server, name)
    summaries = generate(args.days)
    size = store(url, summaries)
    print(f"{len(summaries)} summaries, {size:,} bytes of JSON")
    points_seconds, points_line = make_points(url)
    print(f"manage.py summarize made their chart points in {points_seconds:.1f} s: {points_line}")
    # The hashed, compressed static files gunicorn serves with DEBUG off (into STATIC_ROOT).
    run_manage(url, "collectstatic", "--noinput", "-v", "0")
    server = start_gunicorn(url, args.workers)
    port = server.port
    try:
        rows = time_paths(port, server, summaries, args.cold, args.warm, args.match)
        result = {
            "days": len(summaries),
            "summaries_bytes": size,
            "points_seconds": points_seconds,
            "paths": rows,
        }
        if not args.no_browser:
            fresh_worker(port, server)
            result["visit"] = visit(port)
            print(
                f"one visit of /: {result['visit']['requests']} requests, "
                f"{result['visit']['bytes']:,} bytes transferred"
            )
    finally:
        server.stop()
    drop_database(args.server, name)
    write_results(args.json, "site", result)


if __name__ == "__main__":
    main()
