"""How much do persistent installations use RBAC: users, groups, domains, policies, roles?"""

from collections.abc import Callable, Mapping

from django.db.models import BigIntegerField, Count
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from pulpanalytics.metrics.base import Chart, ChartData, Day, Metric, Summaries
from pulpanalytics.metrics.series import bucket_series, numbered

# The RBACStats fields of telemetry.proto, in their order.
MEASURES = ("users", "groups", "domains", "custom_access_policies", "custom_roles")


class Rbac(Metric):
    name = "rbac"
    title = "RBAC usage"

    def summarize(self, day: Day) -> dict:
        entries = []
        for measure in MEASURES:
            rows = (
                day.persistent_reports.annotate(
                    number=Cast(KT(f"data__rbac_stats__{measure}"), BigIntegerField())
                )
                .filter(number__isnull=False)
                .values("number")
                .annotate(count=Count("id"))
                .order_by("number")
            )
            entries += [
                {"measure": measure, "number": r["number"], "count": r["count"]} for r in rows
            ]
        return {"rbac": entries}

    def charts(self) -> list[Chart]:
        return [
            Chart(
                name=f"rbac-{measure.replace('_', '-')}",
                title=measure.replace("_", " ").capitalize(),
                description=f"Persistent systems that reported their number of "
                f"{measure.replace('_', ' ')}, by that number in power-of-two buckets.",
                kind="line",
                stacked=True,
                build=self.buckets_chart(measure),
            )
            for measure in MEASURES
        ]

    @staticmethod
    def buckets_chart(measure: str) -> Callable[[Summaries, Mapping[str, str]], ChartData]:
        def build(summaries: Summaries, params: Mapping[str, str]) -> ChartData:
            return bucket_series(
                summaries,
                lambda summary: numbered(
                    (e for e in summary["rbac"] if e["measure"] == measure), "number"
                ),
            )

        return build
