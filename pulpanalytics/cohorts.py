"""Cohorts: who stays. The installations first seen in a month, and how many of them report in
each month after it (docs/design.md), from the activity kept per system and month (SystemMonth).

A cohort is the installations whose first_seen (the registry's) is in that month and that
reported on at least two different days: a one-day install (a CI run) is in none. active[k] is
how many of them reported at least once in the k-th month after (active[0] = systems). Months run
through the month of the latest summarized day; reports after that day do not count yet, so the
numbers change with the nightly summary (and with a deletion), not with each report.
"""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Case, Count, F, IntegerField, Max, Q, When
from django.db.models.functions import TruncMonth

from pulpanalytics.chart_data import SummariesState, as_csv, cached
from pulpanalytics.metrics.base import ChartData
from pulpanalytics.models import Erasure, SystemMonth
from pulpanalytics.public import min_count

# The "still reporting after N months" figures of the fleet page.
RETENTION_MONTHS = (1, 3, 6, 12)


@dataclass(frozen=True)
class Cohort:
    month: date  # its first day
    systems: int | None  # None: fewer than PUBLIC_MIN_COUNT (public numbers only)
    active: list[int | None]  # active[k]: reported in the k-th month after `month`


@dataclass(frozen=True)
class Retention:
    months: int
    share: float | None  # % of the cohorts' installations; None when no cohort is old enough
    cohorts: int  # how many cohorts had finished that month
    systems: int  # their installations


@dataclass(frozen=True)
class Cohorts:
    through: date | None  # the latest summarized day (None: nothing summarized yet)
    cohorts: list[Cohort]

    @property
    def through_month(self) -> date | None:
        return self.through.replace(day=1) if self.through else None


def months_between(first: date, last: date) -> int:
    """How many months `last`'s month is after `first`'s."""
    return (last.year - first.year) * 12 + last.month - first.month


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def compute(through: date) -> list[Cohort]:
    """Every cohort from the first one to `through`'s month, oldest first (exact counts)."""
    last_month = through.replace(day=1)
    # The days of the last month up to `through`: later reports do not count yet.
    seen = Case(
        When(month=last_month, then=F("days").bitand((1 << through.day) - 1)),
        default=F("days"),
        output_field=IntegerField(),
    )
    active = (
        SystemMonth.objects.filter(month__lte=last_month).annotate(seen=seen).filter(seen__gt=0)
    )
    # At least two days: two active months, or two bits in one (x & (x - 1) clears the lowest).
    members = (
        active.values("system_id")
        .annotate(months=Count("id"), twice=Max(F("seen").bitand(F("seen") - 1)))
        .filter(Q(months__gte=2) | Q(twice__gt=0))
        .values("system_id")
    )
    rows = (
        active.filter(system_id__in=members)
        .values("month", cohort=TruncMonth("system__first_seen"))
        .annotate(count=Count("id"))
        .order_by()
    )
    found: dict[date, dict[int, int]] = defaultdict(dict)
    for row in rows:
        offset = months_between(row["cohort"], row["month"])
        if offset >= 0:  # an import may have made first_seen later than a kept report: never
            found[row["cohort"]][offset] = row["count"]
    if not found:
        return []
    first = min(found)
    cohorts = []
    for index in range(months_between(first, last_month) + 1):
        month = add_months(first, index)
        counts = found.get(month, {})
        length = months_between(month, last_month) + 1
        active_counts = [counts.get(k, 0) for k in range(length)]
        cohorts.append(Cohort(month=month, systems=active_counts[0], active=active_counts))
    return cohorts


def withheld(number: int | None, smallest: int) -> int | None:
    """A count as the public may see it: 0 < n < PUBLIC_MIN_COUNT is withheld (None)."""
    return None if number is None or 0 < number < smallest else number


def public(cohorts: list[Cohort], *, smallest: int) -> list[Cohort]:
    """What the public may see: any count below PUBLIC_MIN_COUNT (but 0) as None."""
    if smallest <= 1:
        return cohorts
    return [
        Cohort(
            month=c.month,
            systems=withheld(c.systems, smallest),
            active=[withheld(n, smallest) for n in c.active],
        )
        for c in cohorts
    ]


def retention(exact: list[Cohort], *, through: date, smallest: int) -> list[Retention]:
    """The share still reporting N months after first seen, over every cohort whose N-th month
    has ended by `through` (a month not finished yet would count too few).

    Added up from the exact counts of many cohorts; withheld (None) when fewer than
    PUBLIC_MIN_COUNT installations make the share.
    """
    finished = through.replace(day=1) if _is_last_day(through) else add_months(through, -1)
    figures = []
    for months in RETENTION_MONTHS:
        counted = [c for c in exact if add_months(c.month, months) <= finished and c.systems]
        systems = sum(c.systems for c in counted)
        still = sum(c.active[months] for c in counted)
        share = round(100 * still / systems, 1) if systems and systems >= smallest else None
        figures.append(Retention(months, share, len(counted), systems))
    return figures


def _is_last_day(day: date) -> bool:
    return add_months(day.replace(day=1), 1).toordinal() - day.toordinal() == 1


def version(state: SummariesState) -> list:
    """What the cohorts depend on: the summaries (the latest day) and the deletions; a deletion
    versions them in the database, so every process stops counting the system at once."""
    erased = Erasure.objects.aggregate(latest=Max("id"))["latest"]
    return [state.version, erased]


@dataclass(frozen=True)
class Fleet:
    """What the API and the fleet page show, as the public may see it."""

    cohorts: Cohorts
    retention: list[Retention]


def fleet(state: SummariesState) -> Fleet:
    """The public cohorts and retention, computed once per version (cached)."""
    return cached(["cohorts", *version(state)], lambda: _compute_fleet(state.latest))


def _compute_fleet(through: date | None) -> Fleet:
    if through is None:
        return Fleet(Cohorts(None, []), [])
    exact = compute(through)
    smallest = min_count()
    return Fleet(
        Cohorts(through, public(exact, smallest=smallest)),
        retention(exact, through=through, smallest=smallest),
    )


def as_json(cohorts: Cohorts) -> dict:
    return {
        "through": cohorts.through_month.strftime("%Y-%m") if cohorts.through_month else None,
        "cohorts": [
            {"month": c.month.strftime("%Y-%m"), "systems": c.systems, "active": c.active}
            for c in cohorts.cohorts
        ],
    }


def as_table(cohorts: Cohorts) -> ChartData:
    """The cohorts as a table (chart_data.as_csv): a row per cohort; its size, then month 0,
    1, ... after first seen (empty where the month has not come yet)."""
    width = max((len(c.active) for c in cohorts.cohorts), default=0)
    return {
        "labels": [c.month.strftime("%Y-%m") for c in cohorts.cohorts],
        "datasets": [
            {"label": "Systems", "data": [c.systems for c in cohorts.cohorts]},
            *(
                {
                    "label": f"Month {k}",
                    "data": [c.active[k] if k < len(c.active) else None for c in cohorts.cohorts],
                }
                for k in range(width)
            ),
        ],
    }


def encode(cohorts: Cohorts, *, output: str) -> tuple[str, str]:
    """(body, content type) of the cohorts as JSON or CSV."""
    if output == "csv":
        return as_csv(as_table(cohorts), first_column="Cohort"), "text/csv; charset=utf-8"
    return json.dumps(as_json(cohorts), separators=(",", ":")), "application/json"


@dataclass(frozen=True)
class Cell:
    text: str
    shade: str  # a CSS class: shade-0 .. shade-10 by share, or shade-none


@dataclass(frozen=True)
class Row:
    month: str
    systems: str
    cells: list[Cell]


def _cell(count: int | None, systems: int | None, smallest: int) -> Cell:
    if count is None:
        return Cell(f"< {smallest}", "shade-none")
    if not systems:
        return Cell(f"{count:,}", "shade-none")
    share = count / systems
    return Cell(f"{100 * share:.1f}%", f"shade-{round(10 * share)}")


def table(cohorts: Cohorts, *, smallest: int) -> list[Row]:
    """The cohorts as the fleet page's table: a row per cohort, a cell per month since first
    seen with the share of the cohort that reported in it (shaded by that share)."""
    return [
        Row(
            month=c.month.strftime("%Y-%m"),
            systems=f"< {smallest}" if c.systems is None else f"{c.systems:,}",
            cells=[_cell(count, c.systems, smallest) for count in c.active],
        )
        for c in cohorts.cohorts
    ]
