"""How long have the installations that report been around?"""

from collections import defaultdict
from collections.abc import Mapping

from django.db.models import Count

from pulpanalytics.metrics.base import Chart, ChartData, Day, LatestChart, Metric, OverTimeChart
from pulpanalytics.metrics.series import OTHER, buckets, numbered

DAYS_PER_MONTH = 30


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
                description="Systems that reported on the latest day, by months since they "
                "first reported.",
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
                series=buckets(
                    lambda summary: numbered(summary["age"], "days"),
                    lambda name: "1 day" if name == "1" else f"{name} days",
                ),
            ),
        ]

    @staticmethod
    def latest_chart(summary: dict | None, params: Mapping[str, str]) -> ChartData:
        months: dict[int, int] = defaultdict(int)
        other = 0
        for days, count in numbered(summary["age"] if summary else [], "days"):
            if days is None:
                other += count
            else:
                months[days // DAYS_PER_MONTH] += count
        numbers = list(range(max(months) + 1)) if months else []
        labels = [f"{m * DAYS_PER_MONTH}\u2013{(m + 1) * DAYS_PER_MONTH - 1} days" for m in numbers]
        data = [months.get(m, 0) for m in numbers]
        if other:
            labels.append(OTHER)
            data.append(other)
        return {"labels": labels, "datasets": [{"label": "Systems", "data": data}]}
