"""Who joins the fleet each day, and who comes back after a silence?"""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.lookups import GreaterThan

from pulpanalytics.metrics.base import Chart, Day, Metric, OverTimeChart
from pulpanalytics.metrics.series import lines
from pulpanalytics.models import SystemMonth


def month_masks(first: date, last: date) -> dict[date, int]:
    """The days first..last (inclusive) as SystemMonth bitmasks, by month."""
    masks: dict[date, int] = {}
    day = first
    while day <= last:
        month = day.replace(day=1)
        masks[month] = masks.get(month, 0) | (1 << (day.day - 1))
        day += timedelta(days=1)
    return masks


def reported_between(first: date, last: date) -> Q | None:
    """SystemMonth rows with a report on a day of first..last; None for no day at all."""
    masks = month_masks(first, last)
    if not masks:
        return None
    found = Q()
    for month, mask in masks.items():
        found |= Q(month=month) & GreaterThan(F("days").bitand(mask), 0)
    return found


class FleetDynamics(Metric):
    name = "fleet"
    title = "Fleet dynamics"
    question = "Who joins the fleet each day, and who comes back after a silence?"

    def summarize(self, day: Day) -> dict:
        # Returning: seen before (age > 0) and silent the GONE_AFTER_DAYS - 1 days before D, so
        # the previous report, however old, is GONE_AFTER_DAYS or more days back. The activity
        # of SystemMonth is kept as long as the registry, unlike raw rows.
        gone = settings.GONE_AFTER_DAYS
        returning = day.reports.filter(age_days__gt=0)
        recent = reported_between(day.date - timedelta(days=gone - 1), day.date - timedelta(days=1))
        if recent is not None:
            active = SystemMonth.objects.filter(recent, system=OuterRef("system_id"))
            returning = returning.exclude(Exists(active))
        return {"returning": returning.count()}

    def charts(self) -> list[Chart]:
        return [
            OverTimeChart(
                name="joined-returning",
                title="Joined and returning per day",
                description="Installations that reported for the first time each day, and those "
                "that came back after a silence (their previous report was "
                f"{settings.GONE_AFTER_DAYS} or more days before).",
                kind="line",
                series=lines(
                    ("Joined (new systems)", lambda s: s["new_systems"]),
                    ("Returning systems", lambda s: s.get("returning")),
                ),
            )
        ]
