"""I4: soak: reports at half the I2 rate (50/s) for 30 minutes against gunicorn + PostgreSQL.

gunicorn runs the production config with its default 2 workers; traffic is
the I2 mix (85% new systems, 10% duplicates, 5% invalid) sent open loop. The per-client limits are
turned off because every request comes from 127.0.0.1. Every --sample seconds it reads each
worker's RSS and open file descriptors and the database's connection count. The first
--warm-up seconds are the baseline's warm-up (imports, caches, connection set-up), not growth.
Pass: RSS growth per worker < 10% from the end of warm-up to the end; open fds and database
connections flat (max - min <= 2); no worker restarted; no 5xx or timeout.
"""

import asyncio
import os
import time

from bench.common import (
    DEFAULT_SERVER,
    drop_database,
    query,
    recreate_database,
    start_gunicorn,
)
from bench.reliability.load import Answer, figures, lost_acks, mix, open_loop
from bench.reliability.scenario import Outcome, gunicorn_arguments, main
from bench.server import children

DATABASE = "pulpanalytics_stress_i4"


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def connections(url: str) -> int:
    ((count,),) = query(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [DATABASE],
    )
    return count


def sample(server_pid: int, url: str) -> dict:
    workers = sorted(children(server_pid))
    return {
        "workers": workers,
        "rss_kb": {pid: rss_kb(pid) for pid in workers},
        "fds": {pid: open_fds(pid) for pid in workers},
        "connections": connections(url),
    }


def run(args) -> Outcome:
    url = recreate_database(args.server, DATABASE)
    server = start_gunicorn(url, args.workers, REPORT_RATE_LIMIT="0", NEW_SYSTEM_RATE_LIMIT="0")
    port = server.port
    samples: list[tuple[float, dict]] = []
    answers: list[Answer] = []
    per_chunk = int(args.rate * args.sample)
    chunks = max(1, round(args.seconds / args.sample))
    try:
        start = time.monotonic()
        for chunk in range(chunks):
            bodies = mix(
                per_chunk,
                seed=chunk,
                first=1 + chunk * per_chunk,
                duplicate=0.10,
                invalid=0.05,
            )
            answers += asyncio.run(open_loop(port, bodies, args.rate))
            samples.append((time.monotonic() - start, sample(server.pid, url)))
            if args.verbose:
                elapsed, last = samples[-1]
                print(
                    f"{elapsed:6.0f} s  RSS MB "
                    + " ".join(f"{kb / 1024:.1f}" for kb in last["rss_kb"].values())
                    + f"  fds {list(last['fds'].values())}  connections {last['connections']}",
                    flush=True,
                )
        lost = lost_acks(url, answers)
    finally:
        server.stop()
        drop_database(args.server, DATABASE)
    warm = [s for elapsed, s in samples if elapsed >= args.warm_up] or [samples[-1][1]]
    first, last = warm[0], warm[-1]
    restarted = first["workers"] != last["workers"] or samples[0][1]["workers"] != last["workers"]
    growth = {
        pid: (last["rss_kb"][pid] - first["rss_kb"][pid]) / first["rss_kb"][pid]
        for pid in first["workers"]
        if pid in last["rss_kb"]
    }
    worst = max(growth.values(), default=0.0)
    fd_spread = max(
        max(s["fds"].get(pid, 0) for s in warm) - min(s["fds"].get(pid, 0) for s in warm)
        for pid in first["workers"]
    )
    conn_values = [s["connections"] for s in warm]
    conn_spread = max(conn_values) - min(conn_values)
    result = figures(answers)
    rss = ", ".join(
        f"{first['rss_kb'][pid] / 1024:.1f} -> {last['rss_kb'].get(pid, 0) / 1024:.1f} MB"
        for pid in first["workers"]
    )
    return Outcome(
        id="I4",
        scenario=f"soak: {args.rate:g} req/s for {args.seconds / 60:.0f} min",
        figure=f"RSS growth per worker {', '.join(f'{g:+.1%}' for g in growth.values())} "
        f"({rss}); open fds spread {fd_spread}; DB connections {min(conn_values)}-"
        f"{max(conn_values)}; worker restarts {int(restarted)}; {result.requests:,} requests, "
        f"{result.failed} 5xx/timeouts, {lost} lost acks, p99 {result.p99_ms:.0f} ms",
        passed=worst < 0.10
        and fd_spread <= 2
        and conn_spread <= 2
        and not restarted
        and result.failed == 0
        and lost == 0,
        threshold="RSS growth < 10% per worker; fds and connections flat; no restart, 5xx or "
        "lost ack",
        detail=f"statuses: {result.histogram()}",
    )


def arguments(parser) -> None:
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument(
        "--seconds", type=int, default=1800, help="soak duration (default: %(default)s)"
    )
    parser.add_argument(
        "--rate", type=float, default=50, help="requests per second (default: %(default)s)"
    )
    parser.add_argument(
        "--sample", type=int, default=30, help="seconds between samples (default: %(default)s)"
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=120,
        help="seconds before the baseline sample (default: %(default)s)",
    )
    gunicorn_arguments(parser, workers=2)
    parser.add_argument("--verbose", action="store_true", help="print every sample")


if __name__ == "__main__":
    main(run, __doc__, arguments)
