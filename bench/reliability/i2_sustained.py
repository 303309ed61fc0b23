"""I2: sustained open-loop ingest at a fixed rate: 85% new, 10% duplicate, 5% invalid reports.

Starts gunicorn with the production config (gunicorn.conf.py's worker count) on a throw-away
PostgreSQL database and sends R requests per second for the given time, open loop (request i
leaves at i / R s whatever the server does; latency counts from that planned time, so a stall
is not hidden by coordinated omission). Each request opens its own connection and has a deadline.

The default per-client limits stay on. All traffic comes from 127.0.0.1, so the server runs with
TRUSTED_PROXY_COUNT=1 and every system sends its own X-Forwarded-For address (a duplicate comes
from the address of its first report), as each installation reaches production from its own
address through the OpenShift router. Raising the limits instead would skip the limiter's cache
writes that production pays on every report, and one address would meet NEW_SYSTEM_RATE_LIMIT
(1,000 an hour) after ten seconds.

Figures: error rate ((5xx + timeouts + broken connections) / requests), p99 latency, lost acks
(a 200 for a system whose row is missing) and stored rows against unique acknowledged systems.
Pass: error rate < 0.1%, p99 < 250 ms, 0 lost acks, rows equal to unique acknowledged systems.
"""

import asyncio
import ipaddress
from dataclasses import dataclass

from bench.common import (
    DEFAULT_SERVER,
    drop_database,
    query,
    recreate_database,
    start_gunicorn,
)
from bench.reliability.load import (
    Figures,
    Sent,
    acked_systems,
    figures,
    lost_acks,
    mix,
    open_loop,
)
from bench.reliability.scenario import Outcome, gunicorn_arguments, main

# Client addresses are drawn from 10.0.0.0/8; each mix of a run starts at its own offset.
CLIENTS = ipaddress.IPv4Network("10.0.0.0/8")


def with_client_addresses(bodies: list[Sent], first: int) -> list[Sent]:
    """Give each system (and each invalid body) its own X-Forwarded-For address."""
    addresses: dict[str, str] = {}
    number = first
    for sent in bodies:
        key = sent.system or f"invalid-{number}"
        if key not in addresses:
            addresses[key] = str(CLIENTS[1 + number % (CLIENTS.num_addresses - 2)])
            number += 1
        sent.headers = (("X-Forwarded-For", addresses[key]),)
    return bodies


@dataclass
class Run:
    """One open-loop run of a mix: its figures and what the database holds afterwards."""

    invalid: float
    figures: Figures
    valid_requests: int
    valid_failed: int
    lost_acks: int
    acked: int

    @property
    def valid_error_rate(self) -> float:
        return self.valid_failed / self.valid_requests if self.valid_requests else 0.0

    def line(self) -> str:
        f = self.figures
        return (
            f"{self.invalid:.0%} invalid: {f.requests:,} requests, error rate {f.error_rate:.3%} "
            f"(valid {self.valid_error_rate:.3%} of {self.valid_requests:,}), p50 {f.p50_ms:.0f} "
            f"ms, p99 {f.p99_ms:.0f} ms, max {f.max_ms:.0f} ms; statuses {f.histogram()}"
        )


def sustained(
    url: str,
    port: int,
    *,
    rate: float,
    seconds: float,
    invalid: float,
    duplicate: float,
    first: int,
    seed: int,
    timeout: float,
) -> Run:
    """Send `rate` x `seconds` requests of the given mix open loop; numbers systems (and client
    addresses) from `first` so several runs on one server never collide."""
    bodies = mix(
        round(rate * seconds), seed=seed, first=first, duplicate=duplicate, invalid=invalid
    )
    answers = asyncio.run(
        open_loop(port, with_client_addresses(bodies, first), rate, timeout=timeout)
    )
    valid = [answer for answer in answers if answer.sent.kind != "invalid"]
    return Run(
        invalid=invalid,
        figures=figures(answers),
        valid_requests=len(valid),
        valid_failed=sum(answer.failed for answer in valid),
        lost_acks=lost_acks(url, answers),
        acked=len(acked_systems(answers)),
    )


def report_rows(url: str) -> int:
    ((count,),) = query(url, "SELECT count(*) FROM pulpanalytics_report")
    return count


def serve(args, name: str):
    """A fresh database and gunicorn (production config, client addresses from the header)."""
    url = recreate_database(args.server, name)
    server = start_gunicorn(url, args.workers, TRUSTED_PROXY_COUNT="1")
    port = server.port
    return url, port, server


def run(args) -> Outcome:
    name = "pulpanalytics_stress_i2"
    url, port, server = serve(args, name)
    try:
        result = sustained(
            url,
            port,
            rate=args.rate,
            seconds=args.seconds,
            invalid=0.05,
            duplicate=0.10,
            first=0,
            seed=args.seed,
            timeout=args.timeout,
        )
        rows = report_rows(url)
    finally:
        server.stop()
        drop_database(args.server, name)
    f = result.figures
    return Outcome(
        id="I2",
        scenario=f"sustained {args.rate:g} req/s open loop for {args.seconds:g} s "
        f"(85% new, 10% duplicate, 5% invalid), {args.workers} workers",
        figure=f"error rate {f.error_rate:.3%} ({f.failed}/{f.requests:,}); p99 {f.p99_ms:.0f} ms; "
        f"{result.lost_acks} lost acks; {rows:,} rows for {result.acked:,} unique acked systems",
        passed=f.error_rate < 0.001
        and f.p99_ms < 250
        and result.lost_acks == 0
        and rows == result.acked,
        threshold="error rate < 0.1%; p99 < 250 ms; 0 lost acks; rows = unique acked systems",
        detail=result.line(),
    )


def common_arguments(parser) -> None:
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument(
        "--rate", type=float, default=100, help="requests per second (default: %(default)s)"
    )
    gunicorn_arguments(parser, workers=None, timeout=10)
    parser.add_argument("--seed", type=int, default=1)


def arguments(parser) -> None:
    parser.add_argument(
        "--seconds", type=float, default=60, help="duration of the load (default: %(default)s)"
    )
    common_arguments(parser)


if __name__ == "__main__":
    main(run, __doc__, arguments)
