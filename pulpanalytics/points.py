"""Chart points: what each over-time chart takes from each summarized day, stored beside it.

An over-time chart over three years would otherwise parse 1,095 whole summaries (40 MB) to take a
few numbers from each. A chart's point of a day is what the chart takes from that day (its value
of each dataset; metrics/base.py Series), a few hundred bytes, so years of a chart are years of
small points. An over-time chart with parameters has a point for each set of them that its
parameter_sets() lists for the day; any other set's point is empty on that day.

Points are derived data: summarize writes a day's points in the transaction that stores its
summary. The revision says what made them: a hash of the code that makes points and the
PUBLIC_MIN_COUNT they were folded with. After a deploy that changes either, every day's points
are stale: charts compute stale days from their summaries (slower, never wrong) until the next
`summarize` remakes them (refresh()).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet

from pulpanalytics import metrics
from pulpanalytics.metrics.base import OverTimeChart, Point
from pulpanalytics.models import ChartPoint, DailySummary
from pulpanalytics.public import min_count, public_summary

PACKAGE = Path(__file__).resolve().parent
# The code that makes points: the metrics and their helpers, the small-count fold, this module.
CODE = ("metrics/*.py", "public.py", "points.py")
# Days whose points one transaction of refresh() remakes.
BATCH_DAYS = 50


@cache
def _code_digest() -> str:
    digest = hashlib.sha256()
    for pattern in CODE:
        for path in sorted(PACKAGE.glob(pattern)):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def revision() -> str:
    """What the points made now would be made by: this code, this PUBLIC_MIN_COUNT."""
    return f"{_code_digest()}-{min_count()}"


def _dumps(point: Point) -> str:
    return json.dumps(point, separators=(",", ":"))


def points_of(summary: dict) -> list[tuple[str, str, Point]]:
    """(chart name, parameters key, point) of every point a stored summary has."""
    public = public_summary(summary, min_count=min_count())
    return [
        (chart.name, chart.params_key(params), chart.series.point_of(public, params))
        for chart in metrics.charts().values()
        if isinstance(chart, OverTimeChart)
        for params in chart.every_parameter_set(public)
    ]


def store(daily: DailySummary, summary: dict) -> int:
    """Replace the points of a stored summary (`summary`: its JSON, parsed) in the caller's
    transaction; how many there are."""
    rows = [
        ChartPoint(summary=daily, date=daily.date, chart=name, params=key, point=_dumps(point))
        for name, key, point in points_of(summary)
    ]
    ChartPoint.objects.filter(summary=daily).delete()
    ChartPoint.objects.bulk_create(rows)
    daily.points_revision = revision()
    DailySummary.objects.filter(pk=daily.pk).update(points_revision=daily.points_revision)
    return len(rows)


def stale() -> QuerySet[DailySummary]:
    """The summaries whose points are missing or were made by other code or settings."""
    return DailySummary.objects.exclude(points_revision=revision())


def refresh(*, log: Callable[[str], None] = lambda line: None) -> int:
    """Remake the points of every stale day, BATCH_DAYS days per transaction; how many days.

    Short transactions: a run killed between them leaves whole days remade, and the next run
    remakes the rest.
    """
    ids = list(stale().order_by("date").values_list("id", flat=True))
    for start in range(0, len(ids), BATCH_DAYS):
        first, last, count = _refresh_batch(ids[start : start + BATCH_DAYS])
        log(f"Remade the chart points of {first} to {last} ({count:,} points)")
    return len(ids)


@transaction.atomic
def _refresh_batch(ids: list[int]) -> tuple[date, date, int]:
    days = list(DailySummary.objects.filter(id__in=ids).order_by("date"))
    count = sum(store(daily, json.loads(daily.json)) for daily in days)
    return days[0].date, days[-1].date, count


def series_points(
    chart: OverTimeChart, params: dict[str, str], days: QuerySet[DailySummary]
) -> tuple[list[str], list[Point]]:
    """The dates of `days` (summaries in date order) and the chart's point of each: stored, or
    computed from the summary where the day's points are stale."""
    listed = list(days.values_list("date", "points_revision"))
    if not listed:
        return [], []
    current = revision()
    stored = dict(
        ChartPoint.objects.filter(
            chart=chart.name,
            params=chart.params_key(params),
            date__gte=listed[0][0],
            date__lte=listed[-1][0],
        ).values_list("date", "point")
    )
    computed: dict[date, Point] = {}
    if any(made_by != current for _, made_by in listed):
        smallest = min_count()
        for day, text in days.exclude(points_revision=current).values_list("date", "json"):
            public = public_summary(json.loads(text), min_count=smallest)
            computed[day] = chart.series.point_of(public, params)
    points = []
    for day, _ in listed:
        if day in computed:
            points.append(computed[day])
        elif day in stored:
            points.append(json.loads(stored[day]))
        else:  # a set of parameters the day lists no point for: empty by parameter_sets()
            points.append({})
    return [day.isoformat() for day, _ in listed], points
