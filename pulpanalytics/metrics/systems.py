"""How many installations report each day, how many are new, and how many stay?"""

from django.db.models import Count, Q

from pulpanalytics.metrics.base import Chart, Day, Metric, OverTimeChart
from pulpanalytics.metrics.series import lines


class Systems(Metric):
    name = "systems"
    title = "Systems"
    question = "How many installations report each day, how many are new, and how many stay?"

    def summarize(self, day: Day) -> dict:
        return day.reports.aggregate(
            systems=Count("id"),
            new_systems=Count("id", filter=Q(age_days=0)),
            persistent_systems=Count("id", filter=Q(age_days__gte=day.persistent_min_age)),
        )

    def charts(self) -> list[Chart]:
        return [
            OverTimeChart(
                name="systems",
                title="Systems per day",
                description="Installations that reported each day: all, new that day, and "
                "persistent (seen on an earlier day too).",
                kind="line",
                series=lines(
                    ("All systems", lambda s: s["systems"]),
                    ("New systems", lambda s: s["new_systems"]),
                    ("Persistent systems", lambda s: s["persistent_systems"]),
                ),
            )
        ]
