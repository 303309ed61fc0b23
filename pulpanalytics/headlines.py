"""The overview's headline numbers: a day's counts and their change since 7 and 30 days before."""

import json
from dataclasses import dataclass
from datetime import date, timedelta

from pulpanalytics.models import DailySummary
from pulpanalytics.public import is_other, min_count, public_summary

COMPARED_DAYS = (7, 30)


@dataclass(frozen=True)
class Change:
    absolute: int
    percent: float | None  # None when the earlier value was 0

    @property
    def text(self) -> str:
        if self.percent is None:
            return f"{self.absolute:+,}"
        return f"{self.absolute:+,} ({self.percent:+.1f}%)"


@dataclass(frozen=True)
class Headline:
    label: str
    value: int
    changes: tuple[tuple[int, Change | None], ...]  # (days before, change or None if no summary)


def _numbers(stored: dict) -> dict[str, int]:
    # Totals are public as stored; plugins run by too few systems are not seen (public.py).
    summary = public_summary(stored, min_count=min_count())
    return {
        "Systems reporting": summary.get("systems", 0),
        "New systems": summary.get("new_systems", 0),
        "Persistent systems": summary.get("persistent_systems", 0),
        "Plugins seen": sum(1 for c in summary.get("components", []) if not is_other(c)),
    }


def change(now: int, before: int) -> Change:
    return Change(now - before, round(100 * (now - before) / before, 1) if before else None)


def headlines(*, until: date | None) -> tuple[date | None, list[Headline]]:
    """The latest summarized day up to `until` (any, if None) and its headline numbers."""
    latest = DailySummary.objects.order_by("-date")
    if until:
        latest = latest.filter(date__lte=until)
    day = latest.values_list("date", flat=True).first()
    if day is None:
        return None, []
    wanted = [day] + [day - timedelta(days=n) for n in COMPARED_DAYS]
    found = {
        row.date: _numbers(json.loads(row.json))
        for row in DailySummary.objects.filter(date__in=wanted).only("date", "json")
    }
    today = found[day]
    return day, [
        Headline(
            label=label,
            value=value,
            changes=tuple(
                (n, change(value, found[before][label]) if before in found else None)
                for n, before in zip(COMPARED_DAYS, wanted[1:], strict=True)
            ),
        )
        for label, value in today.items()
    ]
