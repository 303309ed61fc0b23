"""C1: the database server stops for 30 s under a steady 20 reports/s, then starts again.

Runs a private PostgreSQL cluster (bench/reliability/cluster.py: the shared server must not be
stopped) and gunicorn with the production config against it. Open-loop load at --rate for
--before seconds, `pg_ctl stop -m fast`, --outage seconds, `pg_ctl start`, --after seconds more.
Reports the status histogram of each phase (before; stopping: while pg_ctl stop runs; during;
starting: while pg_ctl start runs; after), requests hanging > 5 s, partial rows (a report
without components, or components != 8 x reports), the time from `pg_ctl start` returning to the
first 2xx, failures after that, and gunicorn worker restarts.
Pass: during the outage 100% 503 with Retry-After; 0 x 500 and 0 hangs overall; first 2xx < 1 s
after the start; 0 failures after it; 0 partial rows; no worker restarted.
"""

import argparse
import asyncio
from collections import Counter

from bench.common import recreate_database, start_gunicorn
from bench.reliability import load
from bench.reliability.cluster import Cluster
from bench.reliability.dbfault import (
    COMPONENTS_PER_REPORT,
    UNLIMITED,
    WorkerWatch,
    partial_rows,
)
from bench.reliability.scenario import Outcome, gunicorn_arguments, main

HANG_SECONDS = 5.0
PHASES = ("before", "stopping", "during", "starting", "after")


async def drive(cluster: Cluster, port: int, watch: WorkerWatch, args) -> tuple[list, dict]:
    """The load and the outage on one clock: (answers, seconds since the load began of each
    pg_ctl call and return)."""
    loop = asyncio.get_running_loop()
    total = args.before + args.outage + args.after
    bodies = load.mix(int(total * args.rate), seed=args.seed, first=1)
    marks: dict[str, float] = {}
    done = asyncio.Event()
    start = loop.time()

    async def outage() -> None:
        await asyncio.sleep(args.before)
        marks["stop_called"] = loop.time() - start
        await asyncio.to_thread(cluster.stop, "fast")
        marks["stopped"] = loop.time() - start
        await asyncio.sleep(max(0.0, args.before + args.outage - (loop.time() - start)))
        marks["start_called"] = loop.time() - start
        await asyncio.to_thread(cluster.start)
        marks["started"] = loop.time() - start

    async def traffic() -> list:
        try:
            return await load.open_loop(port, bodies, args.rate, timeout=args.timeout)
        finally:
            done.set()

    answers, *_ = await asyncio.gather(traffic(), outage(), watch.watch(done))
    return answers, marks


def phase(answer: load.Answer, marks: dict[str, float]) -> str:
    bounds = ("stop_called", "stopped", "start_called", "started")
    for name, bound in zip(PHASES, bounds, strict=False):
        if answer.started < marks[bound]:
            return name
    return "after"


def run(args) -> Outcome:
    name = "pulpanalytics_stress_c1"
    with Cluster() as cluster:
        url = recreate_database(cluster.server, name)
        health = {"DB_CONN_HEALTH_CHECKS": "true" if args.health_checks else "false"}
        server = start_gunicorn(url, args.workers, **UNLIMITED, **health)
        port = server.port
        try:
            watch = WorkerWatch(server.pid)
            answers, marks = asyncio.run(drive(cluster, port, watch, args))
        finally:
            server.stop()
        orphans, reports, components = partial_rows(url)
        lost = load.lost_acks(url, answers)

    by_phase: dict[str, list] = {name: [] for name in PHASES}
    for answer in answers:
        by_phase[phase(answer, marks)].append(answer)
    histograms = {name: Counter(a.status for a in group) for name, group in by_phase.items()}
    during = by_phase["during"]
    during_ok = bool(during) and all(a.status == 503 and a.retry_after for a in during)
    errors_500 = sum(1 for a in answers if a.status == 500)
    hangs = sum(1 for a in answers if a.status == "timeout" or a.latency > HANG_SECONDS)
    recovered = [
        a.started + a.latency for a in answers if a.ok and a.started >= marks["start_called"]
    ]
    # Can be a little below 0: the server accepts connections before pg_ctl notices it is up.
    first_2xx = min(recovered, default=float("inf")) - marks["started"]
    failed_after = sum(1 for a in by_phase["after"] if not a.ok)
    partial = orphans + (components != COMPONENTS_PER_REPORT * reports)
    passed = (
        during_ok
        and errors_500 == 0
        and hangs == 0
        and first_2xx < 1.0
        and failed_after == 0
        and partial == 0
        and watch.respawned == 0
    )

    def histogram(counter: Counter) -> str:
        return ", ".join(f"{code}: {n}" for code, n in sorted(counter.items(), key=str)) or "-"

    detail = "\n".join(
        [
            *(f"  {name:>8}: {histogram(histograms[name])}" for name in PHASES),
            f"  first 2xx {first_2xx:+.2f} s from pg_ctl start returning",
            f"  pg_ctl stop {marks['stop_called']:.1f}-{marks['stopped']:.1f} s, "
            f"start {marks['start_called']:.1f}-{marks['started']:.1f} s after the load began",
            f"  rows: {reports:,} reports, {components:,} components, {orphans} reports without "
            f"components; lost acks {lost}; worker pids {sorted(watch.initial)} -> "
            f"{sorted(watch.seen)}",
        ]
    )
    return Outcome(
        id="C1",
        scenario=f"PostgreSQL stopped {args.outage:g} s under {args.rate:g} reports/s",
        figure=f"during: {histogram(histograms['during'])} "
        f"({sum(1 for a in during if a.status == 503 and not a.retry_after)} 503 without "
        f"Retry-After); after: {histogram(histograms['after'])}; {errors_500} x 500; "
        f"{hangs} hangs > {HANG_SECONDS:g} s; {partial} partial rows; first 2xx "
        f"{max(first_2xx, 0.0):.2f} s after start; {failed_after} failures after start; "
        f"{watch.respawned} worker restarts",
        passed=passed,
        threshold="during: 100% 503 with Retry-After, 0 x 500, 0 hangs; first 2xx < 1 s after "
        "start; 0 failures after it; 0 partial rows; no worker restart",
        detail=detail,
    )


def arguments(parser) -> None:
    parser.add_argument("--rate", type=float, default=20, help="reports/s (default: %(default)s)")
    parser.add_argument(
        "--outage", type=float, default=30, help="seconds stopped (default: %(default)s)"
    )
    parser.add_argument(
        "--before", type=float, default=10, help="seconds of load first (default: %(default)s)"
    )
    parser.add_argument(
        "--after", type=float, default=20, help="seconds of load after (default: %(default)s)"
    )
    gunicorn_arguments(parser, workers=2, timeout=10)
    parser.add_argument(
        "--health-checks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="DB_CONN_HEALTH_CHECKS of gunicorn (default: on, the product's default)",
    )
    parser.add_argument("--seed", type=int, default=1)


if __name__ == "__main__":
    main(run, __doc__, arguments)
