"""How much do persistent installations use RBAC: users, groups, domains, policies, roles?"""

from django.db.models import BigIntegerField, Count
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from pulpanalytics.metrics.base import Chart, Day, Metric, OverTimeChart
from pulpanalytics.metrics.series import buckets, numbered
from pulpanalytics.plausible import max_count

# The RBACStats fields of telemetry.proto, in their order.
MEASURES = ("users", "groups", "domains", "custom_access_policies", "custom_roles")


class Rbac(Metric):
    name = "rbac"
    title = "RBAC usage"
    question = (
        "How much do persistent installations use RBAC: users, groups, domains, policies, roles?"
    )

    def summarize(self, day: Day) -> dict:
        entries = []
        for measure in MEASURES:
            rows = (
                day.persistent_reports.annotate(
                    number=Cast(KT(f"data__rbac_stats__{measure}"), BigIntegerField())
                )
                # A number above PLAUSIBLE_MAX_COUNT counts as not sent (plausible.py).
                .filter(number__isnull=False, number__lte=max_count())
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
            OverTimeChart(
                name=f"rbac-{measure.replace('_', '-')}",
                title=measure.replace("_", " ").capitalize(),
                description=f"Persistent systems that reported their number of "
                f"{measure.replace('_', ' ')}, by that number in power-of-two buckets.",
                kind="line",
                stacked=True,
                series=buckets(
                    # measure=measure: each chart keeps its own measure, not the loop's last.
                    lambda summary, measure=measure: numbered(
                        (e for e in summary["rbac"] if e["measure"] == measure), "number"
                    )
                ),
            )
            for measure in MEASURES
        ]
