"""Helpers the metrics share: version order, XY, labels, buckets, and the usual Series."""

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from pulpanalytics.metrics.base import Series
from pulpanalytics.public import OTHER, is_other

_PART_RE = re.compile(r"[0-9]+")
# The low end of a power-of-two bucket's name.
_LOW = re.compile(r"[0-9]+")


def version_key(version: str) -> tuple:
    """Sort key: numeric parts compare as numbers; a text part sorts below any number there.

    Total for any string ("main", "", "3.45.0.dev"), so one odd version never breaks a sort.
    """
    parts = tuple(
        (1, int(part), "") if _PART_RE.fullmatch(part) else (0, 0, part)
        for part in version.split(".")
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


def lines(*values: tuple[str, Callable[[dict], float | int | None]]) -> Series:
    """Fixed datasets, one per (label, value of a summary); a day without a value gets None."""
    labels = [label for label, _ in values]
    return Series(
        point=lambda summary, params: {label: value(summary) for label, value in values},
        order=lambda found: labels,
        missing=None,
    )


def stacked(
    counts: Callable[[dict, Mapping[str, str]], dict[str, float]],
    order: Callable[[Iterable[str]], list[str]],
    *,
    percent_mode: bool = False,
) -> Series:
    """One dataset per key `counts(summary, params)` gives on any day (0 where absent), keys in
    `order`. With `percent_mode`, a day without any key under mode=percent has no value (a
    percent of nothing), not 0 of everything."""
    if percent_mode:
        return Series(
            point=counts, order=order, empty_is_no_value=lambda p: p.get("mode") == "percent"
        )
    return Series(point=counts, order=order)


def bucket_order(buckets: Iterable[str]) -> list[str]:
    """Power-of-two bucket names ("0", "1", "2–3", ...) by their numbers; "other" last."""
    return sorted(buckets, key=lambda name: math.inf if name == OTHER else int(_LOW.match(name)[0]))


def buckets(
    entries: Callable[[dict], Iterable[tuple[int | None, int]]],
    label: Callable[[str], str] = str,
) -> Series:
    """Stacked counts per power-of-two bucket of a number, e.g. systems by age or by users.

    `entries(summary)` yields (number, count) pairs, number None for the "other" entry of a
    public summary (a bucket of its own, last); `label` dresses a bucket's name ("2–3").
    """

    def point(summary: dict, params: Mapping[str, str]) -> dict[str, float]:
        counts: dict[str, float] = {}
        for number, count in entries(summary):
            name = OTHER if number is None else power_of_two_bucket(number)[1]
            counts[name] = counts.get(name, 0) + count
        return counts

    return Series(
        point=point,
        order=bucket_order,
        label=lambda name: name if name == OTHER else label(name),
    )


def percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def numbered(entries: Iterable[dict], key: str) -> Iterator[tuple[int | None, int]]:
    """(number, count) of each entry of a list keyed by a number; None for the "other" entry."""
    for entry in entries:
        yield None if is_other(entry) else entry[key], entry["count"]
