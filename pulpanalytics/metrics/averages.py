"""Shared by the online workers and online content apps metrics: processes and hosts averages."""

from django.db.models import Avg, FloatField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from pulpanalytics.metrics.base import Chart, Day, Metric, OverTimeChart
from pulpanalytics.metrics.series import lines
from pulpanalytics.plausible import max_count

# Both databases average in double precision but may sum in another order: round so that SQLite
# and PostgreSQL store the same number.
DECIMALS = 4


class ProcessesAndHostsAverages(Metric):
    """Averages of `<field>.processes` and `<field>.hosts` over persistent systems sending them."""

    field = ""  # the Telemetry and Summary field, e.g. online_workers
    noun = ""  # what the processes are, e.g. "worker"

    def summarize(self, day: Day) -> dict:
        parts = ("processes", "hosts")
        # A count above PLAUSIBLE_MAX_COUNT counts as not sent (plausible.py).
        averages = day.persistent_reports.annotate(
            **{part: Cast(KT(f"data__{self.field}__{part}"), FloatField()) for part in parts}
        ).aggregate(
            **{
                f"{part}_avg": Avg(part, filter=Q(**{f"{part}__lte": max_count()}))
                for part in parts
            }
        )
        return {
            self.field: {
                key: None if value is None else round(value, DECIMALS)
                for key, value in averages.items()
            }
        }

    def charts(self) -> list[Chart]:
        return [
            OverTimeChart(
                name=self.field.replace("_", "-"),
                title=self.title,
                description=f"Average number of online {self.noun} processes, and of hosts "
                f"running them, per persistent system that reported them.",
                kind="line",
                y_label="Average per persistent system",
                series=lines(
                    ("Processes (average)", lambda s: s[self.field]["processes_avg"]),
                    ("Hosts (average)", lambda s: s[self.field]["hosts_avg"]),
                ),
            )
        ]
