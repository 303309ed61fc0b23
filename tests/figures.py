"""Figures the reliability tests measure (RELIABILITY.md), printed at the end of the run."""

import math

FIGURES: dict[str, str] = {}


def record(row: str, figure: str) -> None:
    """Keep `figure` for plan row `row` (e.g. "A1 random bytes"); the last value wins."""
    FIGURES[row] = figure


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of a non-empty list (0.99 -> p99)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]
