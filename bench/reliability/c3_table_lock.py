"""C3: another session holds ACCESS EXCLUSIVE on the raw report table for 40 s while reports
arrive.

Runs a private PostgreSQL cluster and gunicorn (production config, DB_STATEMENT_TIMEOUT_MS as
given, default the product's 5000) against it. Open-loop load at --rate for --before seconds,
then a psql-like session takes `LOCK TABLE pulpanalytics_report IN ACCESS EXCLUSIVE MODE` and
holds it --lock seconds, then --after seconds more. The default rate (0.3/s) stays below what
2 workers can absorb while each request waits the statement timeout (with the sync workers the
rate was chosen for, 2 / 5 s = 0.4/s; the asyncio workers run 2 Django threads each, 0.8/s):
above it requests queue for a thread and their latency is queueing, not the product's bound.
Reports the max ingest latency, the status codes (during the lock and overall) and gunicorn
worker timeouts (a worker killed by its 30 s timeout comes back with a new pid).
Pass: every answer is 2xx or 503 (with Retry-After), never 500; the lock answered 503 at least
once; max latency <= statement timeout + 1 s; 0 worker timeouts.
"""

import asyncio
import time
from collections import Counter

import psycopg2

from bench.common import (
    recreate_database,
    start_gunicorn,
)
from bench.reliability import load
from bench.reliability.cluster import Cluster
from bench.reliability.dbfault import UNLIMITED, WorkerWatch
from bench.reliability.scenario import Outcome, gunicorn_arguments, main


def hold_lock(url: str, seconds: float, taken: list[float], start: float) -> None:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE pulpanalytics_report IN ACCESS EXCLUSIVE MODE")
            taken.append(time.monotonic() - start)
            time.sleep(seconds)
        connection.rollback()
        taken.append(time.monotonic() - start)
    finally:
        connection.close()


async def drive(url: str, port: int, watch: WorkerWatch, args) -> tuple[list, list[float]]:
    total = args.before + args.lock + args.after
    bodies = load.mix(max(1, int(total * args.rate)), seed=args.seed, first=1)
    done = asyncio.Event()
    window: list[float] = []  # lock taken, lock released (seconds since the load began)
    start = time.monotonic()  # the event loop's clock, which open_loop counts from

    async def locker() -> None:
        await asyncio.sleep(args.before)
        await asyncio.to_thread(hold_lock, url, args.lock, window, start)

    async def traffic() -> list:
        try:
            return await load.open_loop(port, bodies, args.rate, timeout=args.timeout)
        finally:
            done.set()

    answers, *_ = await asyncio.gather(traffic(), locker(), watch.watch(done))
    return answers, window


def run(args) -> Outcome:
    name = "pulpanalytics_stress_c3"
    bound = args.statement_timeout_ms / 1000 + 1
    with Cluster() as cluster:
        url = recreate_database(cluster.server, name)
        server = start_gunicorn(
            url, args.workers, DB_STATEMENT_TIMEOUT_MS=str(args.statement_timeout_ms), **UNLIMITED
        )
        port = server.port
        try:
            watch = WorkerWatch(server.pid)
            answers, (taken, released) = asyncio.run(drive(url, port, watch, args))
        finally:
            server.stop()

    statuses = Counter(a.status for a in answers)
    locked = [a for a in answers if taken <= a.started < released]
    during = Counter(a.status for a in locked)
    max_latency = max((a.latency for a in answers), default=0.0)
    max_locked = max((a.latency for a in locked), default=0.0)
    unexpected = sum(1 for a in answers if not a.ok and a.status != 503)
    no_retry = sum(1 for a in answers if a.status == 503 and not a.retry_after)
    passed = (
        unexpected == 0
        and no_retry == 0
        and statuses[503] > 0
        and max_latency <= bound
        and watch.respawned == 0
    )

    def histogram(counter: Counter) -> str:
        return ", ".join(f"{code}: {n}" for code, n in sorted(counter.items(), key=str)) or "-"

    return Outcome(
        id="C3",
        scenario=f"ACCESS EXCLUSIVE on the raw report table for {args.lock:g} s",
        figure=f"max ingest latency {max_latency:.2f} s ({max_locked:.2f} s during the lock); "
        f"during the lock: {histogram(during)}; all: {histogram(statuses)}; "
        f"{no_retry} 503 without Retry-After; {watch.respawned} worker timeouts",
        passed=passed,
        threshold=f"503 (never 500) within statement_timeout + 1 s = {bound:g} s; "
        "0 worker timeouts",
        detail=f"  lock held {taken:.1f}-{released:.1f} s after the load began; "
        f"{len(answers)} requests at {args.rate:g}/s; worker pids {sorted(watch.initial)} -> "
        f"{sorted(watch.seen)}",
    )


def arguments(parser) -> None:
    parser.add_argument("--lock", type=float, default=40, help="seconds held (%(default)s)")
    parser.add_argument("--rate", type=float, default=0.3, help="reports/s (%(default)s)")
    parser.add_argument("--before", type=float, default=5, help="seconds first (%(default)s)")
    parser.add_argument("--after", type=float, default=10, help="seconds after (%(default)s)")
    gunicorn_arguments(parser, workers=2, timeout=60)
    parser.add_argument(
        "--statement-timeout-ms",
        type=int,
        default=5000,
        help="DB_STATEMENT_TIMEOUT_MS of gunicorn (default: %(default)s, the product's)",
    )
    parser.add_argument("--seed", type=int, default=1)


if __name__ == "__main__":
    main(run, __doc__, arguments)
