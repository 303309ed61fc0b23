"""D8: prune a day of 1,000,000 raw reports (8,000,000 component rows) while ingest runs at
50 reports/s.

Runs a private PostgreSQL cluster (bench/reliability/cluster.py) so that the shared server's
other users neither slow the figures nor get slowed by them; it fills one old, summarized day
quickly with COPY (bench/summarize.py's fill()) and gives every later day up to yesterday a
summary, so `manage.py summarize` has only that prune to do. On PostgreSQL the raw tables are
partitioned by day (pulpanalytics/partitions.py): the day gets its partitions first, as
`summarize` makes them ahead, so the prune drops them; nothing of the day is in the DEFAULT
partition for the batched delete. gunicorn (production config, 2
workers) takes an open-loop --rate for --baseline seconds, then summarize runs as cron runs it
while the same load goes on until it ends. A poller watches the summarize backend in
pg_stat_activity every --poll seconds for the age of its open transaction.
Reports the prune duration (the command's wall time), the longest transaction of the prune (the
longest any row lock was held, to within the poll interval), and ingest p99 during the prune
divided by the baseline p99: over the prune, or, if the prune is shorter, over as many seconds
from its start as the baseline lasted (--window), so that both p99s are taken over about as many
requests (a p99 of the 45 requests of a one-second prune would be their slowest one); the
slowest request sent during the prune itself is reported beside it.
Pass: no transaction of the prune open > 1 s; p99 ratio < 2; every raw row of the day gone.
"""

import asyncio
import itertools
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg2

from bench.common import (
    PYTHON,
    ROOT,
    django_env,
    percentile,
    query,
    recreate_database,
    run_manage,
    start_gunicorn,
)
from bench.reliability import load
from bench.reliability.cluster import Cluster
from bench.reliability.dbfault import UNLIMITED
from bench.reliability.scenario import Outcome, gunicorn_arguments, main
from bench.summarize import fill

APPLICATION = "pulpanalytics-d8-prune"
LOCK_LIMIT_SECONDS = 1.0
RATIO_LIMIT = 2.0
# The product's own call (summarize makes the coming days' partitions); prints the days made.
ENSURE = "from datetime import date; from pulpanalytics import partitions; print(partitions.ensure([date.fromisoformat('{day}')]))"  # noqa: E501


def prepare(url: str, *, reports: int, old: date, yesterday: date) -> None:
    """One old day of `reports` raw reports, and a summary for it and every day up to yesterday."""
    made = run_manage(url, "shell", "-c", ENSURE.format(day=old.isoformat())).stdout
    assert made.strip().splitlines()[-1] == repr([old]), made
    fill(url, systems=reports, days=[old])
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        # COPY gave explicit ids: move the sequences past them, or ingest would collide (the
        # identity sequence of a partitioned table is its parent's, found the same way).
        for table in ("pulpanalytics_system", "pulpanalytics_report", "pulpanalytics_component"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
            )
        cursor.execute(
            "INSERT INTO pulpanalytics_dailysummary (date, json, computed_at)"
            " SELECT d::date, '{}', now() FROM generate_series(%s::date, %s::date, '1 day') d",
            [old, yesterday],
        )
    connection.autocommit = True
    with connection.cursor() as cursor:
        # A real day's rows arrive over the day with autovacuum keeping up; COPY puts them in at
        # once, and the vacuum and analyze autovacuum would start for them ran through the
        # baseline. Done now, as they would be by the time a day is pruned.
        cursor.execute(
            "VACUUM (ANALYZE) pulpanalytics_system, pulpanalytics_report, pulpanalytics_component"
        )
        # Write the fill's dirty pages out now, not as a checkpoint in the middle of the baseline.
        cursor.execute("CHECKPOINT")
    connection.close()


class TransactionWatch(threading.Thread):
    """Samples pg_stat_activity for the prune's backend: the longest-open transaction seen."""

    def __init__(self, url: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.url, self.interval = url, interval
        self.longest = 0.0
        self.transactions: set = set()
        self.finished = threading.Event()

    def run(self) -> None:
        connection = psycopg2.connect(self.url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            while not self.finished.is_set():
                cursor.execute(
                    "SELECT pid, xact_start, extract(epoch FROM clock_timestamp() - xact_start)"
                    " FROM pg_stat_activity WHERE application_name = %s"
                    " AND xact_start IS NOT NULL",
                    [APPLICATION],
                )
                for pid, started, age in cursor.fetchall():
                    self.transactions.add((pid, started))
                    self.longest = max(self.longest, float(age))
                time.sleep(self.interval)
        connection.close()


def new_reports(seed: int) -> Iterator[load.Sent]:
    rnd = random.Random(seed)
    # Numbers above any fill()ed system, though their hashes could not collide anyway.
    return (load.report(rnd, number) for number in itertools.count(10_000_000))


async def steady(
    port: int, rate: float, bodies: Iterator[load.Sent], stop: asyncio.Event, timeout: float
) -> list[load.Answer]:
    """open_loop until `stop` is set: body i planned at i / rate, latency from the plan."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    answers: list[load.Answer] = []

    async def one(planned: float, sent: load.Sent) -> None:
        status, retry_after, text = await load.request(port, sent.body, timeout=timeout)
        answers.append(
            load.Answer(sent, status, planned - start, loop.time() - planned, retry_after, text)
        )

    tasks = []
    for index in itertools.count():
        if stop.is_set():
            break
        planned = start + index / rate
        await asyncio.sleep(max(0.0, planned - loop.time()))
        tasks.append(asyncio.create_task(one(planned, next(bodies))))
    await asyncio.gather(*tasks)
    answers.sort(key=lambda answer: answer.started)
    return answers


async def drive(url: str, port: int, args) -> tuple[list, float, float, str]:
    """(answers, prune start and end in seconds since the load began, summarize's output)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    start = loop.time()
    env = django_env(url, PGAPPNAME=APPLICATION, PRUNE_BATCH_SIZE=str(args.batch_size))
    marks: dict[str, float] = {}

    async def prune() -> str:
        await asyncio.sleep(args.baseline)
        marks["start"] = loop.time() - start
        try:
            result = await asyncio.to_thread(
                subprocess.run,
                [PYTHON, "manage.py", "summarize"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=args.prune_timeout,
            )
            marks["end"] = loop.time() - start
            # The load goes on until the window measured from the prune's start has passed.
            await asyncio.sleep(max(0.0, marks["start"] + window_of(args) - marks["end"]))
        finally:
            marks.setdefault("end", loop.time() - start)
            stop.set()
        return result.stdout

    answers, output = await asyncio.gather(
        steady(port, args.rate, new_reports(args.seed), stop, args.timeout), prune()
    )
    return answers, marks["start"], marks["end"], output


def window_of(args) -> float:
    return args.baseline if args.window is None else args.window


def remaining(url: str, day: date) -> int:
    ((left,),) = query(
        url,
        "SELECT (SELECT count(*) FROM pulpanalytics_report WHERE day = %(d)s)"
        " + (SELECT count(*) FROM pulpanalytics_component WHERE day = %(d)s)",
        {"d": day},
    )
    return left


def run(args) -> Outcome:
    name = "pulpanalytics_stress_d8"
    yesterday = date.today() - timedelta(days=1)
    old = yesterday - timedelta(days=30)
    with Cluster() as cluster:
        url = recreate_database(cluster.server, name)
        began = time.perf_counter()
        prepare(url, reports=args.reports, old=old, yesterday=yesterday)
        fill_seconds = time.perf_counter() - began
        server = start_gunicorn(url, args.workers, **UNLIMITED)
        port = server.port
        watch = TransactionWatch(f"{cluster.server}/{name}", args.poll)
        try:
            # Warm the workers (imports, connections) outside the measurement.
            warm = itertools.islice(new_reports(args.seed + 1), 50)
            asyncio.run(load.closed_loop(port, list(warm), args.workers))
            watch.start()
            answers, prune_start, prune_end, output = asyncio.run(drive(url, port, args))
        finally:
            watch.finished.set()
            server.stop()
        watch.join()
        left = remaining(url, old)

    baseline = [a for a in answers if a.started < prune_start]
    # Both p99s over about as many requests: a prune shorter than the baseline (dropping day
    # partitions takes about a second) is measured over as long a window from its start, which
    # holds all of it; a longer one over its own length.
    window_end = prune_start + max(prune_end - prune_start, window_of(args))
    during = [a for a in answers if prune_start <= a.started < window_end]
    in_prune = [a for a in answers if prune_start <= a.started < prune_end]
    base_p99 = percentile([a.latency for a in baseline], 0.99)
    during_p99 = percentile([a.latency for a in during], 0.99)
    slowest_in_prune = max((a.latency for a in in_prune), default=0.0)
    ratio = during_p99 / base_p99
    failed = sum(a.failed for a in answers)
    last_line = output.strip().splitlines()[-1] if output.strip() else ""
    expected = f"pruned {args.reports:,} raw system{'s' * (args.reports != 1)}"
    passed = (
        watch.longest <= LOCK_LIMIT_SECONDS
        and ratio < RATIO_LIMIT
        and left == 0
        and last_line.endswith(expected)
    )
    return Outcome(
        id="D8",
        scenario=f"prune {args.reports:,} raw reports under {args.rate:g} reports/s of ingest",
        figure=f"prune {prune_end - prune_start:.1f} s; longest prune transaction "
        f"{watch.longest:.2f} s (of {len(watch.transactions)} seen, batches of "
        f"{args.batch_size:,}); ingest p99 {during_p99 * 1000:.0f} ms over the "
        f"{window_end - prune_start:.0f} s from the prune's start ({len(during)} requests) / "
        f"{base_p99 * 1000:.0f} ms baseline = {ratio:.2f}x; slowest of the "
        f"{len(in_prune)} sent during the prune {slowest_in_prune * 1000:.0f} ms",
        passed=passed,
        threshold=f"no prune transaction open > {LOCK_LIMIT_SECONDS:g} s; p99 ratio < "
        f"{RATIO_LIMIT:g}; the day's raw rows all gone",
        detail=f"  private cluster on 127.0.0.1:{cluster.port}; fill {fill_seconds:.0f} s; "
        f"summarize said {last_line!r}; {left} rows of the day left\n"
        f"  ingest: baseline {load.figures(baseline).histogram()} (p50 "
        f"{load.figures(baseline).p50_ms:.0f} ms); during {load.figures(during).histogram()} "
        f"(p50 {load.figures(during).p50_ms:.0f} ms); {failed} failed overall",
    )


def arguments(parser) -> None:
    parser.add_argument(
        "--reports", type=int, default=1_000_000, help="raw reports pruned (%(default)s)"
    )
    parser.add_argument("--rate", type=float, default=50, help="reports/s (%(default)s)")
    parser.add_argument(
        "--baseline", type=float, default=30, help="seconds of load before (%(default)s)"
    )
    parser.add_argument(
        "--window",
        type=float,
        help="seconds from the prune's start its p99 is taken over, at least (default: as long "
        "as the baseline, so that both p99s are taken over about as many requests)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=2000, help="PRUNE_BATCH_SIZE (%(default)s)"
    )
    gunicorn_arguments(parser, workers=2, timeout=10)
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between samples")
    parser.add_argument(
        "--prune-timeout", type=float, default=900, help="give up on summarize after (s)"
    )
    parser.add_argument("--seed", type=int, default=1)


if __name__ == "__main__":
    main(run, __doc__, arguments)
