"""Shared by G1 and G2: one client sending multiples of its report limit L, each load inside one
fixed window of the limiter, against gunicorn (production config) on a throw-away database.

The limiter's windows start at multiples of the window length in Unix time (limits.Limit._key),
and client and server share this machine's clock: each load waits for a fresh window, starts
`LEAD` seconds into it and is spread over the window less a margin, so every request is counted
in that window. A load whose last answer came after its window ended is flagged in the detail.
"""

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from bench.common import (
    DEFAULT_SERVER,
    drop_database,
    recreate_database,
    start_gunicorn,
)
from bench.reliability.load import Answer, mix, open_loop
from bench.reliability.scenario import gunicorn_arguments

LEAD = 0.5  # seconds into a fresh window before a load's first request


@dataclass
class Load:
    """The answers to one load of `sent` requests from one client whose limit is `limit`."""

    multiple: float
    limit: int
    sent: int
    statuses: Counter
    missing_retry_after: int  # 429 answers without Retry-After
    spilled: bool  # some answer came after the window ended

    @property
    def admitted(self) -> int:
        return sum(n for s, n in self.statuses.items() if isinstance(s, int) and s < 300)

    @property
    def limited(self) -> int:
        return self.statuses.get(429, 0)

    @property
    def failed(self) -> int:
        """5xx, timeouts and broken connections."""
        return sum(
            n for status, n in self.statuses.items() if not isinstance(status, int) or status >= 500
        )

    @property
    def excess(self) -> int:
        return max(self.sent - self.limit, 0)

    @property
    def limited_rate(self) -> float:
        return self.limited / self.sent if self.sent else 0.0

    @property
    def excess_rejected(self) -> float:
        """Share of the requests above the limit that got 429 (1.0 when there are none)."""
        return min(self.limited / self.excess, 1.0) if self.excess else 1.0

    def line(self) -> str:
        histogram = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items(), key=str))
        return (
            f"{self.multiple:g} L = {self.sent} requests: {self.admitted} admitted, "
            f"{self.limited} x 429 ({self.limited_rate:.1%}), excess rejected "
            f"{self.excess_rejected:.1%}, 429 without Retry-After {self.missing_retry_after}, "
            f"statuses {{{histogram}}}{'; SPILLED into the next window' if self.spilled else ''}"
        )


def add_arguments(parser: argparse.ArgumentParser, *, loads: str) -> None:
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--limit", type=int, default=100, help="REPORT_RATE_LIMIT L")
    parser.add_argument(
        "--window", type=int, default=20, help="RATE_LIMIT_WINDOW_SECONDS (default: %(default)s)"
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=4.0,
        help="seconds of each window left free after the load (default: %(default)s)",
    )
    gunicorn_arguments(parser, workers=3, timeout=10.0)
    parser.add_argument(
        "--loads", default=loads, help="comma-separated multiples of L (default: %(default)s)"
    )


def measure(args: argparse.Namespace, *, database: str, **server_env: str) -> list[Load]:
    """Run each load of args.loads in its own window; the database is dropped afterwards."""
    url = recreate_database(args.server, database)
    env = {
        "RATE_LIMIT_WINDOW_SECONDS": str(args.window),
        "REPORT_RATE_LIMIT": str(args.limit),
        # Every request is a new system: only the report limit is under test here.
        "NEW_SYSTEM_RATE_LIMIT": "0",
        **server_env,
    }
    server = start_gunicorn(url, args.workers, **env)
    port = server.port
    loads: list[Load] = []
    try:
        first = 0
        for index, multiple in enumerate(float(m) for m in args.loads.split(",")):
            count = round(multiple * args.limit)
            bodies = mix(count, seed=index, first=first)
            first += count
            spread = args.window - LEAD - args.margin
            window_start = (time.time() // args.window + 1) * args.window
            time.sleep(max(0.0, window_start + LEAD - time.time()))
            began = time.time()
            answers = asyncio.run(open_loop(port, bodies, count / spread, timeout=args.timeout))
            window_end = window_start + args.window
            loads.append(summarize(multiple, args.limit, answers, began, window_end))
    finally:
        server.stop()
        drop_database(args.server, database)
    return loads


def summarize(
    multiple: float, limit: int, answers: list[Answer], began: float, window_end: float
) -> Load:
    last = max((began + a.started + a.latency for a in answers), default=began)
    return Load(
        multiple=multiple,
        limit=limit,
        sent=len(answers),
        statuses=Counter(a.status for a in answers),
        missing_retry_after=sum(1 for a in answers if a.status == 429 and not a.retry_after),
        spilled=last > window_end,
    )
