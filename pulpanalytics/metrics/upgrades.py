"""How often do persistent installations upgrade their plugins, and from which version to which?"""

from collections import defaultdict
from collections.abc import Mapping

from django.db import connection

from pulpanalytics.metrics.base import Chart, Day, Metric, OverTimeChart, Series
from pulpanalytics.metrics.components import names_other_last, plugin_names
from pulpanalytics.metrics.series import stacked, version_key
from pulpanalytics.models import Component, Report
from pulpanalytics.plausible import is_plugin_label
from pulpanalytics.public import OTHER, is_other

# One query for the day. `previous` pairs each persistent report of the day with its system's
# latest earlier report (a correlated subquery on the (system, day) unique index: one index probe
# per report, not a query per system); the component rows of both are joined on the name.
# MATERIALIZED: inlined, PostgreSQL ran the subquery once per component row, not per report.
# Raw SQL: the ORM cannot join a table to itself on an annotation.
UPGRADES_SQL = """
WITH previous AS MATERIALIZED (
    SELECT r.id AS report_id,
        (SELECT p.id FROM {report} p WHERE p.system_id = r.system_id AND p.day < %s
         ORDER BY p.day DESC LIMIT 1) AS previous_id
    FROM {report} r
    WHERE r.day = %s AND r.age_days >= %s
)
SELECT now.name, before.version, now.version, COUNT(*)
FROM previous
JOIN {component} now ON now.report_id = previous.report_id AND now.day = %s
JOIN {component} before ON before.report_id = previous.previous_id AND before.name = now.name
    AND before.day < %s
WHERE before.version <> now.version
GROUP BY now.name, before.version, now.version
"""
ARROW = " \u2192 "


def each_upgraded_component(summary: dict) -> list[dict[str, str]]:
    names = {e["component"] for e in summary["upgrades"] if not is_other(e)}
    return [{"component": name} for name in sorted(names)]


class Upgrades(Metric):
    name = "upgrades"
    title = "Upgrades"
    question = (
        "How often do persistent installations upgrade their plugins, and from which version to "
        "which?"
    )

    def summarize(self, day: Day) -> dict:
        sql = UPGRADES_SQL.format(
            report=connection.ops.quote_name(Report._meta.db_table),
            component=connection.ops.quote_name(Component._meta.db_table),
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [day.date, day.date, day.persistent_min_age, day.date, day.date])
            rows = cursor.fetchall()
        kept = plugin_names(day)
        entries, rare = [], 0
        for name, before, now, count in rows:
            if name in kept:
                entries.append({"component": name, "from": before, "to": now, "count": count})
            elif is_plugin_label(name):  # as in components: rare names are one "other" entry
                rare += count
        # By component; the newest target first, then the newest origin.
        entries.sort(key=lambda e: version_key(e["from"]), reverse=True)
        entries.sort(key=lambda e: version_key(e["to"]), reverse=True)
        entries.sort(key=lambda e: e["component"])
        if rare:
            entries.append(
                {"component": OTHER, "from": OTHER, "to": OTHER, "count": rare, OTHER: True}
            )
        return {"upgrades": entries}

    def charts(self) -> list[Chart]:
        return [
            OverTimeChart(
                name="upgrades",
                title="Upgrades per day",
                description="Persistent systems that reported a component at another version "
                "than in their previous report (downgrades included), per component and day.",
                kind="line",
                y_label="Systems that changed version",
                # A day summarized before upgrades existed has no value (None), not 0.
                series=Series(point=self.per_component, order=names_other_last, missing=None),
            ),
            OverTimeChart(
                name="upgrade-paths",
                title="Upgrade paths",
                description="Persistent systems that changed the component's version, by "
                "previous version \u2192 version on the day.",
                kind="line",
                stacked=True,
                parameters={"component": "the component (plugin) name, e.g. core"},
                required=("component",),
                examples={"component": "core"},
                parameter_sets=each_upgraded_component,
                y_label="Systems that changed version",
                series=stacked(self.paths, sorted),
            ),
        ]

    @staticmethod
    def per_component(summary: dict, params: Mapping[str, str]) -> dict[str, float]:
        # 0 for every component of the day: None only where the day has no upgrades key.
        counts: dict[str, float] = defaultdict(int, {c["name"]: 0 for c in summary["components"]})
        for entry in summary["upgrades"]:
            counts[entry["component"]] += entry["count"]
        return dict(counts)

    @staticmethod
    def paths(summary: dict, params: Mapping[str, str]) -> dict[str, float]:
        return {
            f"{e['from']}{ARROW}{e['to']}": e["count"]
            for e in summary["upgrades"]
            if e["component"] == params["component"] and not is_other(e)
        }
