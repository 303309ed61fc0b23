"""How long have the installations that report been around?"""

from collections.abc import Mapping

from django.db.models import Count

from pulpanalytics.metrics.base import Chart, ChartData, Day, LatestChart, Metric, OverTimeChart
from pulpanalytics.metrics.series import OTHER, buckets, numbered, power_of_two_bucket


class Age(Metric):
    name = "age"
    title = "Age of installations"
    question = "How long have the installations that report been around?"

    def summarize(self, day: Day) -> dict:
        rows = day.reports.values("age_days").annotate(count=Count("id")).order_by("age_days")
        return {"age": [{"days": row["age_days"], "count": row["count"]} for row in rows]}

    def charts(self) -> list[Chart]:
        return [
            LatestChart(
                name="age-latest",
                title="Age of installations on the latest day",
                description="Systems that reported on the latest day, by days since they first "
                "reported, in power-of-two buckets (as in the chart over time below).",
                kind="bar",
                x_label="Age",
                build=self.latest_chart,
            ),
            OverTimeChart(
                name="age",
                title="Systems by age over time",
                description="Systems that reported each day, by days since they first reported, "
                "in power-of-two buckets.",
                kind="line",
                stacked=True,
                series=buckets(lambda summary: numbered(summary["age"], "days"), age_label),
            ),
        ]

    @staticmethod
    def latest_chart(summary: dict | None, params: Mapping[str, str]) -> ChartData:
        # The buckets of the over-time chart, so that the two charts of the page agree.
        buckets: dict[int, tuple[str, int]] = {}
        other = 0
        for days, count in numbered(summary["age"] if summary else [], "days"):
            if days is None:
                other += count
                continue
            order, name = power_of_two_bucket(days)
            buckets[order] = (name, buckets.get(order, (name, 0))[1] + count)
        # Every bucket from the youngest to the oldest, empty ones too: a gap shows as a gap.
        orders = range(min(buckets), max(buckets) + 1) if buckets else []
        labels = [age_label(power_of_two_bucket(bucket_low(order))[1]) for order in orders]
        data = [buckets.get(order, ("", 0))[1] for order in orders]
        if other:
            labels.append(OTHER)
            data.append(other)
        return {"labels": labels, "datasets": [{"label": "Systems", "data": data}]}


def bucket_low(order: int) -> int:
    """The smallest number of a power-of-two bucket by its order: 0 -> 0, 1 -> 1, 2 -> 2, 3 -> 4."""
    return 0 if order == 0 else 1 << (order - 1)


def age_label(bucket: str) -> str:
    """A power-of-two bucket of days as people read it: "1 day", "2–3 days"."""
    return "1 day" if bucket == "1" else f"{bucket} days"
