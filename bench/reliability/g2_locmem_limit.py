"""G2: the per-process limiter pitfall: G1's client with the limit counters in each gunicorn
worker's own memory (CACHE_BACKEND=locmem, never in production), 3 workers.

Each worker counts only the requests it serves, so the client gets up to L from every worker.
The client sends 0.9 L, 3 L and 5 L per window (5 L so that the ceiling, not the load, bounds
what gets through) and the figure is the effective limit: requests admitted at the highest load
divided by the configured L. It documents a reason not to use LocMem (about the number of
workers, less when one worker happens to serve most connections).
Pass: the figure is measured (every request answered, none lost to 5xx or timeouts).
"""

from bench.reliability.rate_limit import add_arguments, measure
from bench.reliability.scenario import Outcome, main


def run(args) -> Outcome:
    loads = measure(args, database="pulpanalytics_stress_g2", CACHE_BACKEND="locmem")
    top = max(loads, key=lambda load: load.multiple)
    ratios = ", ".join(f"{load.admitted / args.limit:.2f} at {load.multiple:g} L" for load in loads)
    return Outcome(
        id="G2",
        scenario=f"one client at {args.loads} x L (L = {args.limit} per {args.window} s), "
        f"{args.workers} workers, per-process LocMem cache",
        figure=f"effective limit / configured limit = {top.admitted / args.limit:.2f} "
        f"({top.admitted} admitted of {top.sent} at {top.multiple:g} L; {args.workers} workers); "
        f"admitted / L per load: {ratios}",
        passed=all(load.failed == 0 for load in loads) and not top.spilled,
        threshold="figure measured (documents the pitfall: expected about the number of workers)",
        detail="\n".join(load.line() for load in loads),
    )


if __name__ == "__main__":
    main(run, __doc__, lambda parser: add_arguments(parser, loads="0.9,3,5"))
