"""What the public may see of a Summary: small counts folded into "other" (PUBLIC_MIN_COUNT).

A count of 1 or 2 next to a version, a plugin or an RBAC number can single an installation out.
With PUBLIC_MIN_COUNT = k > 1 every public surface (the summaries API, chart data and so every
chart, table, CSV and page) is built from public_summary(), which folds each list's entries
counted 0 < n < k into one entry marked `"other": true` (see summary.proto). It knows no metric:
it folds every list of objects that carry a count, so a new metric's lists are folded too.

Totals (systems, new_systems, persistent_systems) and averages are not folded; README says why.
"""

import json
from typing import Any

from django.conf import settings

OTHER = "other"
# The field that holds an entry's count: `count`, or `systems` for a component (which holds
# lists of its own).
COUNT_FIELDS = ("count", "systems")


def min_count() -> int:
    """The site's PUBLIC_MIN_COUNT (1: nothing is folded)."""
    return settings.PUBLIC_MIN_COUNT


def is_other(entry: dict) -> bool:
    """Whether an entry of a public summary is the "other" bucket of its list."""
    return bool(entry.get(OTHER))


def public_summary(summary: dict, *, min_count: int) -> dict:
    """The summary as the public may see it. With min_count <= 1, the very same dict."""
    if min_count <= 1:
        return summary
    return {key: _fold_value(value, min_count) for key, value in summary.items()}


def public_text(text: str, *, min_count: int) -> str:
    """A stored summary's JSON text as the public may see it: the very text with min_count <= 1,
    else the folded summary, encoded as summarize stores it."""
    if min_count <= 1:
        return text
    return json.dumps(public_summary(json.loads(text), min_count=min_count), separators=(",", ":"))


def _fold_value(value: Any, min_count: int) -> Any:
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return _fold_list(value, min_count)
    if isinstance(value, dict):
        return {key: _fold_value(item, min_count) for key, item in value.items()}
    return value


def _count_field(entry: dict) -> str | None:
    return next((name for name in COUNT_FIELDS if isinstance(entry.get(name), int)), None)


def _group_fields(entry: dict, count_field: str) -> tuple[str, ...]:
    """The fields that say which histogram an entry belongs to.

    An entry keyed by a number that also carries text (rbac: measure "users", number 5) belongs
    to the histogram its text names, and is folded with that histogram only. Otherwise every
    scalar is the key (age days, a version, a component name) and the list is one histogram.
    """
    scalars = {
        name: value
        for name, value in entry.items()
        if name != count_field and not isinstance(value, list | dict)
    }
    numbers = [n for n, v in scalars.items() if isinstance(v, int) and not isinstance(v, bool)]
    texts = tuple(n for n, v in scalars.items() if isinstance(v, str))
    return texts if numbers and texts else ()


def _other_entry(shape: dict, count_field: str, groups: tuple[str, ...], total: int) -> dict:
    """An entry shaped like `shape` (same keys, same order, so it stays valid summary.proto)."""
    other: dict = {}
    for name, value in shape.items():
        if name == count_field:
            other[name] = total
        elif name in groups:
            other[name] = value
        elif isinstance(value, str):
            other[name] = OTHER
        elif isinstance(value, list):
            other[name] = []
        elif isinstance(value, dict):
            other[name] = {}
        else:  # a number key: 0 means nothing here, `other` says what the entry is
            other[name] = 0
    other[OTHER] = True
    return other


def _fold_list(entries: list[dict], min_count: int) -> list[dict]:
    count_field = _count_field(entries[0])
    if count_field is None:  # a list of objects without counts: fold what they hold
        return [_fold_value(entry, min_count) for entry in entries]
    groups = _group_fields(entries[0], count_field)
    kept: dict[tuple, list[dict]] = {}
    folded: dict[tuple, tuple[dict, int]] = {}
    for entry in entries:
        group = tuple(entry[name] for name in groups)
        kept.setdefault(group, [])
        count = entry[count_field]
        if is_other(entry) or 0 < count < min_count:  # a stored "other" entry takes the folded
            shape, total = folded.get(group, (entry, 0))
            folded[group] = (shape, total + count)
        else:
            kept[group].append(_fold_value(entry, min_count))
    result = []
    for group, entries_kept in kept.items():
        result += entries_kept
        if group in folded:
            shape, total = folded[group]
            result.append(_other_entry(shape, count_field, groups, total))
    return result
