"""What every tier 2 reliability scenario (docs/reliability.md) returns, and how it is reported."""

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


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
