"""C4: more gunicorn workers than the database has connection slots, under load.

Runs a private PostgreSQL cluster with max_connections=5 (superuser_reserved_connections=0: the
scenario connects as a superuser, who could use the reserved slots) and gunicorn (production
config, persistent connections as in production) with 8 workers against it; open-loop load at
--rate for --seconds. The workers that find no free slot get "too many clients already".
Reports the status codes, Retry-After on every 503 and the reports stored vs acknowledged.
Pass: the exhausted slots answered 503 with Retry-After (at least one), never 500, no timeout or
broken connection; 0 lost acknowledgements.
"""

import asyncio

from bench.common import (
    recreate_database,
    start_gunicorn,
)
from bench.reliability import load
from bench.reliability.cluster import Cluster
from bench.reliability.dbfault import UNLIMITED
from bench.reliability.scenario import Outcome, gunicorn_arguments, main


def run(args) -> Outcome:
    name = "pulpanalytics_stress_c4"
    settings = {
        "max_connections": str(args.max_connections),
        "superuser_reserved_connections": "0",
    }
    with Cluster(**settings) as cluster:
        url = recreate_database(cluster.server, name)
        server = start_gunicorn(url, args.workers, **UNLIMITED)
        port = server.port
        try:
            bodies = load.mix(int(args.rate * args.seconds), seed=args.seed, first=1)
            answers = asyncio.run(load.open_loop(port, bodies, args.rate, timeout=args.timeout))
        finally:
            server.stop()
        lost = load.lost_acks(url, answers)

    figures = load.figures(answers)
    statuses = figures.statuses
    others = sum(n for code, n in statuses.items() if code not in (200, 503))
    passed = (
        statuses[503] > 0
        and statuses[500] == 0
        and others == 0
        and figures.missing_retry_after == 0
        and lost == 0
    )
    return Outcome(
        id="C4",
        scenario=f"{args.workers} gunicorn workers, max_connections={args.max_connections}",
        figure=f"status codes {figures.histogram()}; {statuses[500]} x 500; "
        f"{figures.missing_retry_after} 503 without Retry-After; {lost} lost acks",
        passed=passed,
        threshold="503 (with Retry-After), never 500",
        detail=f"  {figures.requests} requests at {args.rate:g}/s; p99 {figures.p99_ms:.0f} ms",
    )


def arguments(parser) -> None:
    gunicorn_arguments(parser, workers=8, timeout=10)
    parser.add_argument(
        "--max-connections", type=int, default=5, help="PostgreSQL slots (%(default)s)"
    )
    parser.add_argument("--rate", type=float, default=40, help="reports/s (%(default)s)")
    parser.add_argument("--seconds", type=float, default=20, help="load duration (%(default)s)")
    parser.add_argument("--seed", type=int, default=1)


if __name__ == "__main__":
    main(run, __doc__, arguments)
