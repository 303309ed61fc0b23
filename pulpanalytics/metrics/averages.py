"""Shared by the online workers and online content apps metrics: processes and hosts averages
and percentiles."""

from django.db.models import BigIntegerField, Count
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from pulpanalytics.metrics.base import Chart, Day, Metric, OverTimeChart
from pulpanalytics.metrics.series import lines
from pulpanalytics.plausible import max_count

# Both databases average in double precision but may sum in another order: round so that SQLite
# and PostgreSQL store the same number.
DECIMALS = 4
# The percentiles a summary gives of each part (docs/design.md).
PERCENTILES = (50, 90)


def average(counts: list[tuple[int, int]]) -> float | None:
    """The mean of `counts` ((value, systems)), rounded to DECIMALS; None when there are no
    systems. Integer sums, one division: the number the database's AVG gave for the same rows."""
    systems = sum(count for _, count in counts)
    if not systems:
        return None
    return round(sum(value * count for value, count in counts) / systems, DECIMALS)


def nearest_rank(counts: list[tuple[int, int]], percentile: int) -> int | None:
    """The smallest value v such that at least `percentile` % of the systems have a value <= v;
    `counts`: (value, systems) ascending by value. None when there are no systems."""
    whole = sum(count for _, count in counts)
    running = 0
    for value, count in counts:
        running += count
        if running * 100 >= percentile * whole:  # integers: no rounding at the boundary
            return value
    return None


def distributions(day: Day, field: str, parts: tuple[str, ...]) -> dict[str, list[tuple[int, int]]]:
    """(value, systems) of each part of a report field, ascending: one GROUP BY over the (few
    hundred) distinct combinations of the parts' values, once per day (the averages, the
    percentiles and the deployment sizes all read it); a value above PLAUSIBLE_MAX_COUNT or not
    sent is left out of its part."""
    return day.once(("distributions", field, parts), lambda: _distributions(day, field, parts))


def _distributions(
    day: Day, field: str, parts: tuple[str, ...]
) -> dict[str, list[tuple[int, int]]]:
    rows = (
        day.persistent_reports.annotate(
            **{part: Cast(KT(f"data__{field}__{part}"), BigIntegerField()) for part in parts}
        )
        .values(*parts)
        .annotate(count=Count("id"))
        .order_by()
    )
    counts: dict[str, dict[int, int]] = {part: {} for part in parts}
    for row in rows:
        for part in parts:
            value = row[part]
            if value is not None and value <= max_count():
                counts[part][value] = counts[part].get(value, 0) + row["count"]
    return {part: sorted(found.items()) for part, found in counts.items()}


class ProcessesAndHostsAverages(Metric):
    """Averages and percentiles of `<field>.processes` and `<field>.hosts` over persistent
    systems sending them."""

    field = ""  # the Telemetry and Summary field, e.g. online_workers
    noun = ""  # what the processes are, e.g. "worker"

    def summarize(self, day: Day) -> dict:
        # A count above PLAUSIBLE_MAX_COUNT counts as not sent (plausible.py), as in the
        # distributions the averages are taken from.
        found = distributions(day, self.field, ("processes", "hosts"))
        numbers: dict[str, float | int | None] = {
            f"{part}_avg": average(counts) for part, counts in found.items()
        }
        for part, counts in found.items():
            for percentile in PERCENTILES:
                numbers[f"{part}_p{percentile}"] = nearest_rank(counts, percentile)
        return {self.field: numbers}

    def charts(self) -> list[Chart]:
        return [
            OverTimeChart(
                name=self.field.replace("_", "-"),
                title=self.title,
                description=f"Online {self.noun} processes, and hosts running them, per "
                "persistent system that reported them: the average, the median and the 90th "
                "percentile (nine in ten systems have at most that many).",
                kind="line",
                y_label="Per persistent system",
                reported_field=self.field,
                series=lines(
                    ("Processes (average)", lambda s: s[self.field]["processes_avg"]),
                    # .get: days summarized before the percentiles existed have no value there.
                    ("Processes (median)", lambda s: s[self.field].get("processes_p50")),
                    ("Processes (p90)", lambda s: s[self.field].get("processes_p90")),
                    ("Hosts (average)", lambda s: s[self.field]["hosts_avg"]),
                    ("Hosts (median)", lambda s: s[self.field].get("hosts_p50")),
                    ("Hosts (p90)", lambda s: s[self.field].get("hosts_p90")),
                ),
            )
        ]
