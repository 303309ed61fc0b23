"""I3: midnight burst: 2,000 reports within 2 s, each from its own address, against gunicorn
with the production default number of workers (gunicorn.conf.py) and production limits.

What midnight brings: installations sending their first report of a new UTC day. Half of the
systems (--known) are put in the registry as seen yesterday, the rest are new. The server's
clock is not moved: a report's day is only the bucket it lands in, and every report of the
burst is the first of its system that day either way. Each request carries its own
X-Forwarded-For address (a distinct IPv6 /64 of the documentation prefix 2001:db8::/32) with
TRUSTED_PROXY_COUNT=1, as behind the OpenShift router. Every request has a 60 s deadline, so
the drain is measured rather than cut.
Figures: 5xx (and timeouts, broken connections); share of 429/503 and how many lack
Retry-After; time from the first request sent to the last answer (drain); latency p50/p99.
Pass: 0 x 5xx (and no request unanswered); every 429/503 with Retry-After; drained < 30 s.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg2

from bench.common import (
    DEFAULT_SERVER,
    drop_database,
    recreate_database,
    start_gunicorn,
)
from bench.reliability.load import (
    Answer,
    Sent,
    figures,
    lost_acks,
    mix,
    request,
    system_hash,
)
from bench.reliability.scenario import Outcome, gunicorn_arguments, main


def address(index: int) -> str:
    return f"2001:db8:{index >> 16:x}:{index & 0xFFFF:x}::1"


def seed_known(url: str, systems: list[str]) -> None:
    """Registry rows seen yesterday (UTC) for these systems."""
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    connection = psycopg2.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO pulpanalytics_system (system_hash, first_seen, last_seen) "
                "VALUES (%s, %s, %s)",
                [(system_hash(s), yesterday - timedelta(days=30), yesterday) for s in systems],
            )
    finally:
        connection.close()


async def burst(port: int, bodies: list[Sent], seconds: float, timeout: float) -> list[Answer]:
    """Body i at i * seconds / len(bodies), from address(i), open loop."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    answers: list[Answer] = []

    async def one(index: int, sent: Sent) -> None:
        planned = start + index * seconds / len(bodies)
        await asyncio.sleep(max(0.0, planned - loop.time()))
        headers = [("X-Forwarded-For", address(index))]
        status, retry_after, text = await request(port, sent.body, headers=headers, timeout=timeout)
        answers.append(
            Answer(sent, status, planned - start, loop.time() - planned, retry_after, text)
        )

    await asyncio.gather(*(one(index, sent) for index, sent in enumerate(bodies)))
    return answers


def run(args) -> Outcome:
    name = "pulpanalytics_stress_i3"
    workers = args.workers
    url = recreate_database(args.server, name)
    bodies = mix(args.requests, seed=13, first=0)
    known = bodies[: round(args.known * len(bodies))]
    seed_known(url, [sent.system for sent in known])
    server = start_gunicorn(url, workers, TRUSTED_PROXY_COUNT="1")
    port = server.port
    try:
        answers = asyncio.run(burst(port, bodies, args.seconds, args.timeout))
        lost = lost_acks(url, answers)
    finally:
        server.stop()
        drop_database(args.server, name)
    f = figures(answers)
    unanswered = sum(n for s, n in f.statuses.items() if not isinstance(s, int))
    server_errors = f.failed - unanswered
    shed = f.statuses[429] + f.statuses[503]
    missing = f.missing_retry_after
    drain = max(a.started + a.latency for a in answers)
    return Outcome(
        id="I3",
        scenario=f"{args.requests:,} reports within {args.seconds:g} s from distinct addresses, "
        f"{workers} workers (production default), {args.known:.0%} known systems",
        figure=f"5xx: {server_errors}, unanswered: {unanswered}; shed (429/503) "
        f"{shed / len(answers):.1%}, without Retry-After: {missing}; drained in "
        f"{drain:.1f} s",
        passed=server_errors == 0 and unanswered == 0 and missing == 0 and drain < 30,
        threshold="0 x 5xx; every shed request with Retry-After; drained < 30 s",
        detail=f"statuses {{{f.histogram()}}}; latency p50 {f.p50_ms:.0f} ms, p99 {f.p99_ms:.0f} ms"
        f"; lost acks {lost}",
    )


def arguments(parser) -> None:
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--requests", type=int, default=2000, help="reports in the burst")
    parser.add_argument("--seconds", type=float, default=2.0, help="the burst's length")
    parser.add_argument(
        "--known", type=float, default=0.5, help="share of systems already in the registry"
    )
    gunicorn_arguments(parser, workers=None, timeout=60.0)


if __name__ == "__main__":
    main(run, __doc__, arguments)
