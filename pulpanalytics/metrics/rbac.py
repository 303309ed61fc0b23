"""How much do persistent installations use RBAC: users, groups, domains, policies, roles?"""

from django.db.models import BigIntegerField, Count
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from pulpanalytics.metrics.base import Chart, Day, Metric, OverTimeChart
from pulpanalytics.metrics.series import buckets, lines, numbered, percent
from pulpanalytics.plausible import max_count

# The RBACStats fields of telemetry.proto, in their order.
MEASURES = ("users", "groups", "domains", "custom_access_policies", "custom_roles")
# What "uses it" means: at least one of these (users and groups exist nearly everywhere).
USES = (
    ("Domains", "domains"),
    ("Custom access policies", "custom_access_policies"),
    ("Custom roles", "custom_roles"),
)


def share_using(summary: dict, measure: str) -> float | None:
    """% of the persistent systems that sent the measure whose number is at least 1.

    The denominator is every system that sent it (the measure's counts summed). A public
    summary may fold small counts into "other": those are numbers >= 1 when 0 has its own entry,
    else the share cannot be told (None).
    """
    sent = using = 0
    zero_listed, other = False, 0
    for number, count in numbered(
        (e for e in summary["rbac"] if e["measure"] == measure), "number"
    ):
        sent += count
        if number is None:
            other += count
        elif number == 0:
            zero_listed = True
        else:
            using += count
    if other and not zero_listed:
        return None
    return percent(using + other, sent)


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
        share = OverTimeChart(
            reported_field="rbac_stats",
            name="rbac-share",
            title="Share that uses it",
            description="Of the persistent systems that reported RBAC numbers, the share with at "
            "least one domain, custom access policy or custom role.",
            kind="line",
            percent=True,
            y_label="% of the systems that sent it",
            series=lines(
                *(
                    # measure=measure: each line keeps its own measure, not the loop's last.
                    (label, lambda s, measure=measure: share_using(s, measure))
                    for label, measure in USES
                )
            ),
        )
        return [share] + [
            OverTimeChart(
                reported_field="rbac_stats",
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
