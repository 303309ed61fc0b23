"""I5: I2's sustained open-loop load with 5% (I2's mix, the baseline), 50% and 100% invalid bodies.

One gunicorn (production config and worker count) on one throw-away PostgreSQL database serves
the three mixes in turn, the baseline first, so the p99 ratios come from one run on one machine
state. Each mix sends R requests per second open loop for the given time; 10% of the valid part
repeats an earlier report (none in the all-invalid mix). As in I2, every system sends its own
X-Forwarded-For address under TRUSTED_PROXY_COUNT=1 with the default limits on (see i2_sustained).

Figures per mix: error rate (5xx + timeouts + broken connections) on the valid requests, and p99
latency over all requests against the baseline's. The all-invalid mix has no valid request, so
its error rate is over all its requests. Pass: every mix < 0.1% and p99 within 1.5x the baseline.
"""

from bench.common import drop_database
from bench.reliability.i2_sustained import common_arguments, serve, sustained
from bench.reliability.scenario import Outcome, main

# Each mix numbers its systems and client addresses from its own block.
BLOCK = 1_000_000


def run(args) -> Outcome:
    name = "pulpanalytics_stress_i5"
    shares = [0.05, *(share / 100 for share in args.invalid)]
    url, port, server = serve(args, name)
    try:
        runs = [
            sustained(
                url,
                port,
                rate=args.rate,
                seconds=args.seconds,
                invalid=share,
                duplicate=min(0.10, 1 - share),
                first=index * BLOCK,
                seed=args.seed + index,
                timeout=args.timeout,
            )
            for index, share in enumerate(shares)
        ]
    finally:
        server.stop()
        drop_database(args.server, name)
    baseline = runs[0].figures.p99_ms
    parts, passed = [], True
    for result in runs:
        rate = result.valid_error_rate if result.valid_requests else result.figures.error_rate
        ratio = result.figures.p99_ms / baseline if baseline else float("inf")
        which = "valid" if result.valid_requests else "all"
        parts.append(
            f"{result.invalid:.0%} invalid: {which} error rate {rate:.3%}, "
            f"p99 {result.figures.p99_ms:.0f} ms ({ratio:.2f}x)"
        )
        passed = passed and rate < 0.001 and ratio <= 1.5
    return Outcome(
        id="I5",
        scenario=f"{args.rate:g} req/s open loop, {args.seconds:g} s per mix, "
        f"{len(shares)} mixes, {args.workers} workers",
        figure="; ".join(parts),
        passed=passed,
        threshold="error rate on valid requests < 0.1%; p99 within 1.5x the 5% (I2) mix's",
        detail="\n".join(result.line() for result in runs),
    )


def arguments(parser) -> None:
    parser.add_argument(
        "--seconds", type=float, default=30, help="duration of each mix (default: %(default)s)"
    )
    parser.add_argument(
        "--invalid",
        type=float,
        nargs="+",
        default=[50, 100],
        help="invalid percentages to compare with the 5%% baseline (default: %(default)s)",
    )
    common_arguments(parser)


if __name__ == "__main__":
    main(run, __doc__, arguments)
