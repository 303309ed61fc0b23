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

from bench.common import (
    DEFAULT_SERVER,
    drop_database,
    query,
    recreate_database,
    start_gunicorn,
)
from bench.reliability.load import figures, mix, open_loop
from bench.reliability.scenario import Outcome, gunicorn_arguments, main


def rows(url: str) -> tuple[int, int]:
    ((reports, systems),) = query(
        url,
        "SELECT (SELECT count(*) FROM pulpanalytics_report),"
        " (SELECT count(*) FROM pulpanalytics_system)",
    )
    return reports, systems


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
    f = figures(answers)
    return Outcome(
        id="G3",
        scenario=f"{args.requests:,} distinct system ids from one address in {args.seconds:g} s, "
        f"NEW_SYSTEM_RATE_LIMIT={args.limit} per {args.window} s, {args.workers} workers",
        figure=f"rows written {reports} (bound {args.limit} x {windows} window(s)); "
        f"429: {f.statuses[429]}, without Retry-After: {f.missing_retry_after}; 5xx/timeouts: "
        f"{f.failed}",
        passed=max(reports, systems) <= args.limit * windows and not f.missing_retry_after,
        threshold="rows written <= L per window; every 429 with Retry-After",
        detail=f"statuses {{{f.histogram()}}}; registry rows {systems}; run {ended - began:.1f} s",
    )


def arguments(parser) -> None:
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--requests", type=int, default=10_000, help="distinct system ids")
    parser.add_argument("--seconds", type=float, default=60.0, help="spread over this long")
    parser.add_argument("--limit", type=int, default=100, help="NEW_SYSTEM_RATE_LIMIT L")
    parser.add_argument(
        "--window", type=int, default=3600, help="RATE_LIMIT_WINDOW_SECONDS (default: %(default)s)"
    )
    gunicorn_arguments(parser, workers=3, timeout=60.0)


if __name__ == "__main__":
    main(run, __doc__, arguments)
