"""Helpers the metrics share: version order, XY, labels, buckets, series of summaries."""

import math
import re
from collections.abc import Callable, Iterable, Iterator

from pulpanalytics.metrics.base import ChartData, Summaries
from pulpanalytics.public import OTHER, is_other

# Where the "other" bucket of a public summary (PUBLIC_MIN_COUNT) sorts: after every number.
OTHER_BUCKET = (math.inf, OTHER)

_PART_RE = re.compile(r"^[0-9]+$")


def version_key(version: str) -> tuple:
    """Sort key: numeric parts compare as numbers; a text part sorts below any number there.

    Total for any string ("main", "", "3.45.0.dev"), so one odd version never breaks a sort.
    """
    parts = tuple(
        (1, int(part), "") if _PART_RE.match(part) else (0, 0, part) for part in version.split(".")
    )
    return parts, version


def newest_first(versions: Iterable[str]) -> list[str]:
    return sorted(versions, key=version_key, reverse=True)


def xy(version: str) -> str:
    """ "3.45.2" -> "3.45"; a version with fewer than three parts is its own XY."""
    parts = version.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else version


def postgresql_label(number: int) -> str:
    """libpq server_version_num as people write it: 150004 -> 15.4, 90624 -> 9.6.24."""
    if number <= 0:
        return "unknown"
    if number >= 100000:
        return f"{number // 10000}.{number % 10000}"
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def postgresql_entry_label(entry: dict, label: Callable[[int], str]) -> str:
    """`label` of an entry's version, or "other" for the "other" entry of a public summary."""
    return OTHER if is_other(entry) else label(entry["version"])


def postgresql_major(number: int) -> str:
    """The major release: 150004 -> 15, 90624 -> 9.6, 0 -> unknown."""
    if number <= 0:
        return "unknown"
    if number >= 100000:
        return str(number // 10000)
    return f"{number // 10000}.{number // 100 % 100}"


def power_of_two_bucket(number: int) -> tuple[int, str]:
    """(order, label): 0 -> "0", 1 -> "1", 2..3 -> "2-3", 4..7 -> "4-7", ..."""
    if number <= 0:
        return 0, "0"
    low = 1 << int(math.log2(number))
    if low > number:  # guard against float rounding for huge numbers
        low >>= 1
    high = low * 2 - 1
    order = low.bit_length()
    return order, str(low) if low == high else f"{low}\u2013{high}"


def dates(summaries: Summaries) -> list[str]:
    return [summary["date"] for summary in summaries]


def time_series(
    summaries: Summaries, lines: Iterable[tuple[str, Callable[[dict], float | int | None]]]
) -> ChartData:
    """One dataset per (label, value of a summary), one point per summary."""
    return {
        "labels": dates(summaries),
        "datasets": [
            {"label": label, "data": [value(summary) for summary in summaries]}
            for label, value in lines
        ],
    }


def stacked_series(
    summaries: Summaries,
    counts: Callable[[dict], dict[str, float]],
    order: Callable[[Iterable[str]], list[str]],
) -> ChartData:
    """One dataset per key that occurs on any day (0 where absent), keys in `order`."""
    per_day = [counts(summary) for summary in summaries]
    keys = order({key for day in per_day for key in day})
    return {
        "labels": dates(summaries),
        "datasets": [{"label": key, "data": [day.get(key, 0) for day in per_day]} for key in keys],
    }


def percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def latest(summaries: Summaries) -> dict | None:
    return summaries[-1] if summaries else None


def numbered(entries: Iterable[dict], key: str) -> Iterator[tuple[int | None, int]]:
    """(number, count) of each entry of a list keyed by a number; None for the "other" entry."""
    for entry in entries:
        yield None if is_other(entry) else entry[key], entry["count"]


def bucket_series(
    summaries: Summaries,
    entries: Callable[[dict], Iterable[tuple[int | None, int]]],
    label: Callable[[str], str] = str,
) -> ChartData:
    """Stacked counts per power-of-two bucket of a number, e.g. systems by age or by users.

    `entries(summary)` yields (number, count) pairs, number None for the "other" entry of a
    public summary (a bucket of its own, last); `label` dresses a bucket label ("2-3").
    """
    per_day = []
    for summary in summaries:
        buckets: dict[tuple[float, str], int] = {}
        for number, count in entries(summary):
            bucket = OTHER_BUCKET if number is None else power_of_two_bucket(number)
            buckets[bucket] = buckets.get(bucket, 0) + count
        per_day.append(buckets)
    keys = sorted({key for day in per_day for key in day})
    return {
        "labels": dates(summaries),
        "datasets": [
            {
                "label": OTHER if (order, text) == OTHER_BUCKET else label(text),
                "data": [day.get((order, text), 0) for day in per_day],
            }
            for order, text in keys
        ],
    }
