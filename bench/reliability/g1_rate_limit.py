"""G1: one client at 0.9 L and at 3 L reports per window against gunicorn with 3 workers, the
limit counters in the database's counter table (the default when REDIS_URL is unset).

REPORT_RATE_LIMIT=L (default 100) per RATE_LIMIT_WINDOW_SECONDS (default 20, so the test is
short); each load is sent open-loop inside one window (see rate_limit.py). Every request is a
valid report of a new system; NEW_SYSTEM_RATE_LIMIT is off so only the report limit counts.
Figures: the 429 rate at each load, the share of the excess (requests above L) rejected at 3 L,
429 answers without Retry-After.
Pass: 0% 429 at 0.9 L; at least 99% of the excess rejected at 3 L; every 429 has Retry-After.
"""

from bench.reliability.rate_limit import add_arguments, measure
from bench.reliability.scenario import Outcome, main


def run(args) -> Outcome:
    loads = measure(args, database="pulpanalytics_stress_g1")
    under = [load for load in loads if load.multiple < 1]
    over = [load for load in loads if load.multiple > 1]
    missing = sum(load.missing_retry_after for load in loads)
    passed = (
        all(load.limited == 0 for load in under)
        and all(load.excess_rejected >= 0.99 for load in over)
        and missing == 0
        and not any(load.spilled for load in loads)
    )
    figure = "; ".join(
        f"{load.multiple:g} L: 429 rate {load.limited_rate:.1%}"
        + (f", excess rejected {load.excess_rejected:.1%}" if load.excess else "")
        for load in loads
    )
    return Outcome(
        id="G1",
        scenario=f"one client at {args.loads} x L (L = {args.limit} per {args.window} s), "
        f"{args.workers} workers, database counters",
        figure=f"{figure}; 429 without Retry-After: {missing}",
        passed=passed,
        threshold="0% 429 at 0.9 L; >= 99% of the excess rejected at 3 L; every 429 with "
        "Retry-After",
        detail="\n".join(load.line() for load in loads),
    )


if __name__ == "__main__":
    main(run, __doc__, lambda parser: add_arguments(parser, loads="0.9,3"))
