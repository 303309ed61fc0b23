"""How many processes and hosts do persistent installations run: the whole distribution?"""

from pulpanalytics.metrics.averages import distributions
from pulpanalytics.metrics.base import Chart, ChartData, Day, LatestChart, Metric
from pulpanalytics.metrics.series import bucket_order, power_of_two_bucket
from pulpanalytics.public import OTHER, is_other

# The report fields whose sizes are counted, and what their page calls them.
FIELDS = {"online_workers": "Online workers", "online_content_apps": "Online content apps"}
PARTS = ("processes", "hosts")


class DeploymentSizes(Metric):
    name = "deployment_sizes"
    title = "Deployment sizes"
    question = "How many processes and hosts do persistent installations run: the distribution?"

    def summarize(self, day: Day) -> dict:
        entries = []
        for field in FIELDS:
            for part, counts in distributions(day, field, PARTS).items():
                buckets: dict[int, int] = {}
                for value, systems in counts:
                    low = 0 if value == 0 else 1 << (value.bit_length() - 1)
                    buckets[low] = buckets.get(low, 0) + systems
                entries += [
                    {"field": field, "part": part, "number": low, "count": buckets[low]}
                    for low in sorted(buckets)
                ]
        return {"deployment_sizes": entries}

    def charts(self) -> list[Chart]:
        return [
            LatestChart(
                name=f"{field.replace('_', '-')}-sizes",
                title=f"{noun} on the latest day",
                description="Persistent systems by how many processes, and how many hosts, they "
                "reported, in power-of-two buckets (a value above the plausible ceiling left out).",
                kind="bar",
                x_label="Processes or hosts",
                reported_field=field,
                build=lambda summary, params, field=field: sizes_chart(summary, field),
            )
            for field, noun in FIELDS.items()
        ]


def sizes_chart(summary: dict | None, field: str) -> ChartData:
    """A bar per bucket, a dataset each for processes and hosts."""
    counts: dict[str, dict[str, int]] = {part: {} for part in PARTS}
    for entry in (summary or {}).get("deployment_sizes", []):
        if entry["field"] != field or entry["part"] not in counts:
            continue
        name = OTHER if is_other(entry) else power_of_two_bucket(entry["number"])[1]
        found = counts[entry["part"]]
        found[name] = found.get(name, 0) + entry["count"]
    labels = bucket_order({name for found in counts.values() for name in found})
    return {
        "labels": labels,
        "datasets": [
            {"label": part.capitalize(), "data": [counts[part].get(name, 0) for name in labels]}
            for part in PARTS
        ],
    }
