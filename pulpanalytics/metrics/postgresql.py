"""Which PostgreSQL versions do persistent installations run?"""

from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db.models import BigIntegerField, Count, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from pulpanalytics.metrics.base import Chart, ChartData, Day, LatestChart, Metric, OverTimeChart
from pulpanalytics.metrics.series import (
    postgresql_entry_label,
    postgresql_label,
    postgresql_major,
    stacked,
    version_key,
)
from pulpanalytics.plausible import is_server_version_num


def majors_newest_first(labels: Iterable[str]) -> list[str]:
    # "unknown" last; the rest as versions, newest first.
    known = sorted((m for m in labels if m != "unknown"), key=version_key, reverse=True)
    return known + (["unknown"] if "unknown" in labels else [])


class PostgresqlVersions(Metric):
    name = "postgresql"
    title = "PostgreSQL versions"
    question = "Which PostgreSQL versions do persistent installations run?"

    def summarize(self, day: Day) -> dict:
        # Absent (clients before pulpcore 3.22) and 0 both mean "unknown".
        version = Coalesce(
            Cast(KT("data__postgresql_version"), BigIntegerField()),
            Value(0),
            output_field=BigIntegerField(),
        )
        rows = (
            day.persistent_reports.annotate(version=version)
            .values("version")
            .annotate(count=Count("id"))
        )
        # A number that is no server_version_num counts as not sent: unknown (plausible.py).
        counts: dict[int, int] = defaultdict(int)
        for row in rows.order_by():
            known = row["version"] if is_server_version_num(row["version"]) else 0
            counts[known] += row["count"]
        return {
            "postgresql_versions": [
                {"version": version, "count": counts[version]}
                for version in sorted(counts, reverse=True)
            ]
        }

    def charts(self) -> list[Chart]:
        return [
            LatestChart(
                reported_field="postgresql_version",
                name="postgresql-latest",
                title="PostgreSQL versions on the latest day",
                description="Persistent systems by the PostgreSQL version they run.",
                kind="pie",
                x_label="PostgreSQL version",
                build=self.latest_chart,
            ),
            OverTimeChart(
                reported_field="postgresql_version",
                name="postgresql",
                title="PostgreSQL major versions over time",
                description="Persistent systems by PostgreSQL major version.",
                kind="line",
                stacked=True,
                series=stacked(self.majors, majors_newest_first),
            ),
        ]

    @staticmethod
    def latest_chart(summary: dict | None, params: Mapping[str, str]) -> ChartData:
        entries = summary["postgresql_versions"] if summary else []
        return {
            "labels": [postgresql_entry_label(e, postgresql_label) for e in entries],
            "datasets": [{"label": "Systems", "data": [e["count"] for e in entries]}],
        }

    @staticmethod
    def majors(summary: dict, params: Mapping[str, str]) -> dict[str, float]:
        counts: dict[str, float] = defaultdict(int)
        for entry in summary["postgresql_versions"]:
            counts[postgresql_entry_label(entry, postgresql_major)] += entry["count"]
        return dict(counts)
