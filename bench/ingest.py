"""Benchmark `POST /` through gunicorn (the production config) against PostgreSQL on loopback.

Starts two gunicorns on one throw-away database, one as deployed (the per-client limits at their
defaults, each report from its own address through a declared proxy, as installations reach the
OpenShift router) and one with the limits off, and sends N realistic reports from an asyncio
client at each concurrency to each of them in turn (distinct systems; then a mix of 85% new, 10%
duplicate and 5% invalid, as deployed). It prints reports/s, p50/p99 latency, status counts and
server CPU per report (gunicorn processes, and PostgreSQL's separately). In the same run it
measures the ceiling of the same stack, GET /healthz (no database), under the same client, and
prints ingest / ceiling. Each request opens its own connection, as a pulpcore installation does
once a day.
"""

import asyncio
import os
import random
import subprocess
import time
from collections import Counter

from bench.common import (
    PLUGINS,
    RBAC_MEASURES,
    benchmark_parser,
    drop_database,
    percentile,
    recreate_database,
    start_gunicorn,
    write_results,
)
from bench.server import Gunicorn, children, request_async
from pulpanalytics.telemetry_pb2 import Telemetry

TICKS = os.sysconf("SC_CLK_TCK")
DATABASE = "pulpanalytics_bench_ingest"


def report_body(rnd: random.Random, number: int) -> bytes:
    """A report like a current pulpcore sends: 8 components, all numbers present."""
    report = Telemetry(
        system_id=f"{number:08x}-{rnd.getrandbits(16):04x}-4000-8000-{rnd.getrandbits(48):012x}"
    )
    for name in ["core", *rnd.sample(PLUGINS, 7)]:
        report.components.add(name=name, version=f"3.{rnd.randint(20, 60)}.{rnd.randint(0, 9)}")
    report.online_workers.processes = rnd.randint(1, 20)
    report.online_workers.hosts = rnd.randint(1, 4)
    report.online_content_apps.processes = rnd.randint(1, 8)
    report.online_content_apps.hosts = rnd.randint(1, 2)
    report.postgresql_version = rnd.choice([130012, 140010, 150006, 160002])
    for field in RBAC_MEASURES:
        setattr(report.rbac_stats, field, rnd.randint(0, 30))
    return report.SerializeToString()


def workload(kind: str, count: int, first: int, seed: int) -> list[bytes]:
    """`distinct`: every body a new system. `mix`: 85% new, 10% duplicate, 5% invalid."""
    rnd = random.Random(seed)
    bodies: list[bytes] = []
    for index in range(count):
        roll = rnd.random()
        if kind == "mix" and roll < 0.05:
            bodies.append(rnd.choice([b"\xff\xfe garbage", b"", report_body(rnd, 0)[:30]]))
        elif kind == "mix" and roll < 0.15 and index > 100:
            bodies.append(bodies[rnd.randrange(index - 100)])  # sent (and stored) well before
        else:
            bodies.append(report_body(rnd, first + index))
    return bodies


def client_address(number: int) -> str:
    """The address of the `number`th request's client: one of 10.0.0.0/8, as the router saw it."""
    return f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


async def load(
    port: int, method: str, path: str, bodies: list[bytes], concurrency: int, first: int = 0
) -> tuple[float, list[float], Counter]:
    queue = iter(enumerate(bodies, start=first))
    latencies: list[float] = []
    statuses: Counter = Counter()

    async def worker() -> None:
        for number, body in queue:
            headers = {"X-Forwarded-For": client_address(number)}
            start = time.perf_counter()
            try:
                response = await request_async(
                    port, method, path, body, headers=headers, timeout=60
                )
            except OSError as error:
                statuses[f"error:{type(error).__name__}"] += 1
                continue
            statuses[response.status] += 1
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies, statuses


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU time (user + system) of each process that still exists."""
    times = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return times


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the processes used between two readings (a process born in between counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving `database` (gunicorn keeps one per worker)."""
    result = subprocess.run(
        ["pgrep", "-f", f"postgres: .* {database} "], capture_output=True, text=True
    )
    return [int(pid) for pid in result.stdout.split()]


def measure(
    port: int,
    server: Gunicorn,
    method: str,
    path: str,
    bodies: list[bytes],
    concurrency: int,
    first: int = 0,
) -> dict:
    pids = [server.pid, *children(server.pid)]
    cpu_before, db_before = cpu_seconds(pids), cpu_seconds(backend_pids(DATABASE))
    wall, latencies, statuses = asyncio.run(load(port, method, path, bodies, concurrency, first))
    cpu = cpu_used(cpu_before, cpu_seconds(pids))
    db_cpu = cpu_used(db_before, cpu_seconds(backend_pids(DATABASE)))
    count = len(bodies)
    errors = sum(n for status, n in statuses.items() if isinstance(status, str) or status >= 500)
    return {
        "requests": count,
        "concurrency": concurrency,
        "per_second": count / wall,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "errors": errors,
        "server_cpu_ms": cpu / count * 1000,
        "db_cpu_ms": db_cpu / count * 1000,
    }


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument(
        "-n",
        "--requests",
        type=int,
        default=4000,
        help="requests per measurement (default: %(default)s)",
    )
    parser.add_argument(
        "--concurrency",
        default="8,32",
        help="client concurrencies, comma-separated (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="gunicorn workers of each server, WEB_CONCURRENCY (default: %(default)s, as deployed)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of every workload, interleaved; each row is the median round "
        "(default: %(default)s)",
    )
    args = parser.parse_args()

    url = recreate_database(args.server, DATABASE)
    # Both behind one declared proxy: every report comes from its own address, as installations
    # do; limits off is the same stack without counting.
    servers = {
        "deployed": start_gunicorn(url, args.workers, TRUSTED_PROXY_COUNT="1"),
        "off": start_gunicorn(
            url,
            args.workers,
            TRUSTED_PROXY_COUNT="1",
            REPORT_RATE_LIMIT="0",
            NEW_SYSTEM_RATE_LIMIT="0",
        ),
    }
    # Limits as deployed and off, one after the other in each round, so both see the same noise.
    plan = [("healthz", "deployed"), ("distinct", "deployed"), ("distinct", "off")]
    plan += [("mix", "deployed"), ("mix", "off")]
    results = []
    print(f"gunicorn {args.workers} workers each, {args.requests} requests each")
    print(
        f"{'what':<10} {'limits':<8} {'conc':>4} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'cpu ms':>7} {'db ms':>6} {'of ceiling':>10}  statuses"
    )
    try:
        first = 1
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            # Warm every worker's code paths and database connection first; not measured.
            for server in servers.values():
                measure(server.port, server, "GET", "/healthz", [b""] * 200, concurrency)
                warm = workload("distinct", 200, 10**9 + first, seed=0)
                measure(server.port, server, "POST", "/", warm, concurrency, 10**6 + first)
                first += 200
            samples: dict[tuple[str, str], list[dict]] = {}
            for kind, limits in plan * args.rounds:
                server = servers[limits]
                if kind == "healthz":
                    bodies = [b""] * args.requests
                    row = measure(server.port, server, "GET", "/healthz", bodies, concurrency)
                else:
                    bodies = workload(kind, args.requests, first, seed=first)
                    row = measure(server.port, server, "POST", "/", bodies, concurrency, first)
                    first += args.requests
                samples.setdefault((kind, limits), []).append(
                    {**row, "kind": kind, "limits": limits}
                )
            # Each row: the round of median throughput.
            rows = [
                sorted(runs, key=lambda r: r["per_second"])[len(runs) // 2]
                for runs in samples.values()
            ]
            ceiling = rows[0]
            for row in rows:
                row["of_ceiling"] = row["per_second"] / ceiling["per_second"]
                results.append(row)
                print(
                    f"{row['kind']:<10} {row['limits']:<8} {concurrency:>4} "
                    f"{row['per_second']:>7.0f} {row['p50_ms']:>7.1f} {row['p99_ms']:>7.1f} "
                    f"{row['server_cpu_ms']:>7.2f} {row['db_cpu_ms']:>6.2f} "
                    f"{row['of_ceiling']:>10.2f}  {row['statuses']}",
                    flush=True,
                )
    finally:
        for server in servers.values():
            server.stop()
        drop_database(args.server, DATABASE)
    write_results(
        args.json, "ingest", {"workers": args.workers, "rounds": args.rounds, "runs": results}
    )


if __name__ == "__main__":
    main()
