"""G3: ID spray: 10,000 reports with distinct system ids from one address in 60 s, open loop,
against gunicorn with 3 workers; NEW_SYSTEM_RATE_LIMIT=L (default 100) per window.

REPORT_RATE_LIMIT is off, so every request reaches the new-system limit (the report limit is
G1's). The window is the production default (3,600 s); the bound is L for every window the run
touched (almost always one). Figures: rows written; 2xx, 429 (and 429 without Retry-After),
5xx and timeouts.
Pass: rows written <= L per window touched, and every 429 has Retry-After.
"""

import asyncio
import time
from collections import Counter

import psycopg2

from bench.common import (
    DEFAULT_SERVER,
    drop_database,
    recreate_database,
    start_gunicorn,
)
from bench.reliability.load import mix, open_loop
from bench.reliability.scenario import Outcome, main


def rows(url: str) -> tuple[int, int]:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pulpanalytics_report")
            reports = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM pulpanalytics_system")
            return reports, cursor.fetchone()[0]
    finally:
        connection.close()


def run(args) -> Outcome:
    name = "pulpanalytics_stress_g3"
    url = recreate_database(args.server, name)
    bodies = mix(args.requests, seed=3, first=0)
    env = {
        "NEW_SYSTEM_RATE_LIMIT": str(args.limit),
        "REPORT_RATE_LIMIT": "0",
        "RATE_LIMIT_WINDOW_SECONDS": str(args.window),
    }
    server = start_gunicorn(url, args.workers, **env)
    port = server.port
    try:
        began = time.time()
        answers = asyncio.run(
            open_loop(port, bodies, args.requests / args.seconds, timeout=args.timeout)
        )
        ended = time.time()
        reports, systems = rows(url)
    finally:
        server.stop()
        drop_database(args.server, name)
    windows = int(ended // args.window) - int(began // args.window) + 1
    statuses = Counter(a.status for a in answers)
    missing = sum(1 for a in answers if a.status == 429 and not a.retry_after)
    failed = sum(1 for a in answers if a.failed)
    histogram = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items(), key=str))
    return Outcome(
        id="G3",
        scenario=f"{args.requests:,} distinct system ids from one address in {args.seconds:g} s, "
        f"NEW_SYSTEM_RATE_LIMIT={args.limit} per {args.window} s, {args.workers} workers",
        figure=f"rows written {reports} (bound {args.limit} x {windows} window(s)); "
        f"429: {statuses.get(429, 0)}, without Retry-After: {missing}; 5xx/timeouts: {failed}",
        passed=reports <= args.limit * windows and systems <= args.limit * windows and not missing,
        threshold="rows written <= L per window; every 429 with Retry-After",
        detail=f"statuses {{{histogram}}}; registry rows {systems}; run {ended - began:.1f} s",
    )


def arguments(parser) -> None:
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--requests", type=int, default=10_000, help="distinct system ids")
    parser.add_argument("--seconds", type=float, default=60.0, help="spread over this long")
    parser.add_argument("--limit", type=int, default=100, help="NEW_SYSTEM_RATE_LIMIT L")
    parser.add_argument(
        "--window", type=int, default=3600, help="RATE_LIMIT_WINDOW_SECONDS (default: %(default)s)"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")


if __name__ == "__main__":
    main(run, __doc__, arguments)
