"""What every tier 2 reliability scenario (docs/reliability.md) returns, and how it is reported."""

import argparse
import json
import runpy
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import ROOT


@dataclass
class Outcome:
    """One row of the plan: its ID, the figure it reports, pass or fail, and what was seen."""

    id: str
    scenario: str
    figure: str
    passed: bool
    threshold: str
    detail: str = ""

    def line(self) -> str:
        return (
            f"{self.id} {'PASS' if self.passed else 'FAIL'}: {self.figure} (pass: {self.threshold})"
        )


def main(
    run: Callable[[argparse.Namespace], Outcome],
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None,
) -> None:
    """The command line of one scenario: run it, print its figures and a pass/fail line."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", help="append the outcome to this JSON lines file")
    add_arguments(parser)
    args = parser.parse_args()
    outcome = run(args)
    if outcome.detail:
        print(outcome.detail)
    print(outcome.line(), flush=True)
    if args.json:
        with Path(args.json).open("a") as lines:
            lines.write(json.dumps(asdict(outcome)) + "\n")
    sys.exit(0 if outcome.passed else 1)


def production_workers() -> int:
    """The worker count gunicorn.conf.py gives (WEB_CONCURRENCY or its default)."""
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]


def gunicorn_arguments(
    parser: argparse.ArgumentParser, *, workers: int | None, timeout: float | None = None
) -> None:
    """--workers of the scenario's gunicorn (None: gunicorn.conf.py's count, as in production)
    and, given a default, --timeout: the load client's deadline per request."""
    parser.add_argument(
        "--workers",
        type=int,
        default=production_workers() if workers is None else workers,
        help="gunicorn workers (default: %(default)s)",
    )
    if timeout is not None:
        parser.add_argument(
            "--timeout",
            type=float,
            default=timeout,
            help="client deadline per request, s (default: %(default)s)",
        )
