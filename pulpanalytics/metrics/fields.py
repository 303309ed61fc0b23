"""How many persistent installations send each optional field (the "N of M" behind a figure)?"""

from collections.abc import Callable

from django.db.models import BigIntegerField, Count, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from pulpanalytics.metrics.base import Chart, Day, Metric, OverTimeChart
from pulpanalytics.metrics.series import lines, percent
from pulpanalytics.plausible import is_server_version_num

# The optional fields of telemetry.proto, in the order of the Summary's list.
FIELDS = ("postgresql_version", "rbac_stats", "online_workers", "online_content_apps")
MESSAGES = FIELDS[1:]


class Fields(Metric):
    name = "fields"
    title = "Reported fields"
    question = "How many persistent installations send each optional field?"

    def summarize(self, day: Day) -> dict:
        sent = day.persistent_reports.aggregate(
            **{field: Count("id", filter=Q(data__has_key=field)) for field in MESSAGES}
        )
        # A postgresql_version of 0, or one that is no server_version_num, counts as not sent:
        # grouped by value (a few dozen), checked here as the PostgreSQL metric does.
        versions = (
            day.persistent_reports.annotate(
                version=Cast(KT("data__postgresql_version"), BigIntegerField())
            )
            .filter(version__isnull=False)
            .values("version")
            .annotate(count=Count("id"))
            .order_by()
        )
        sent["postgresql_version"] = sum(
            row["count"] for row in versions if is_server_version_num(row["version"])
        )
        return {"fields": [{"field": field, "systems": sent[field]} for field in FIELDS]}

    def charts(self) -> list[Chart]:
        return [
            OverTimeChart(
                name="fields",
                title="Optional fields sent",
                description="Share of persistent systems that sent each optional field (newer "
                "pulpcore versions send more of them).",
                kind="line",
                percent=True,
                series=lines(*((field, self.share_of(field)) for field in FIELDS)),
            )
        ]

    @staticmethod
    def share_of(field: str) -> Callable[[dict], float | None]:
        def share(summary: dict) -> float | None:
            sent = next((e["systems"] for e in summary["fields"] if e["field"] == field), 0)
            return percent(sent, summary["persistent_systems"])

        return share
