"""Which plugin versions and PostgreSQL versions run with which core?"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from django.db.models import BigIntegerField, Count, F, FilteredRelation, Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from pulpanalytics.metrics.base import Chart, ChartData, Day, LatestChart, Metric
from pulpanalytics.metrics.components import plugin_names
from pulpanalytics.metrics.postgresql import majors_newest_first
from pulpanalytics.metrics.series import postgresql_major, version_key, xy
from pulpanalytics.plausible import is_plugin_label, is_server_version_num
from pulpanalytics.public import OTHER


def newest_first_other_last(versions: Iterable[str]) -> list[str]:
    found = set(versions)
    known = sorted(found - {OTHER}, key=version_key, reverse=True)
    return known + ([OTHER] if OTHER in found else [])


Order = Callable[[set[str]], list[str]]


def matrix(
    entries: list[dict], row: str, column: str, row_order: Order, column_order: Order
) -> ChartData:
    """Chart.js data of counted entries as a table: a label per `row` value, a dataset per
    `column` value (0 where no system runs the pair)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        counts[entry[row], entry[column]] += entry["count"]
    rows = row_order({r for r, _ in counts})
    columns = column_order({c for _, c in counts})
    return {
        "labels": rows,
        "datasets": [{"label": c, "data": [counts.get((r, c), 0) for r in rows]} for c in columns],
    }


class Compatibility(Metric):
    name = "compatibility"
    title = "Compatibility"
    question = "Which plugin versions and PostgreSQL versions run with which core?"

    def summarize(self, day: Day) -> dict:
        return {
            "compatibility": self.plugins_with_core(day),
            "postgresql_core": self.postgresql_with_core(day),
        }

    @staticmethod
    def plugins_with_core(day: Day) -> list[dict]:
        # One GROUP BY over the day's component rows joined to their report's core row; the loop
        # below folds the (name, version, core version) groups to XY.
        rows = (
            day.persistent_components.exclude(name="core")
            .annotate(
                # The report's core row: of the same day (so the day's index serves both sides).
                core=FilteredRelation(
                    "report__components",
                    condition=Q(report__components__name="core", report__components__day=day.date),
                )
            )
            .filter(core__version__isnull=False)
            .values("name", "version", core_version=F("core__version"))
            .annotate(count=Count("id"))
            .order_by()
        )
        kept = plugin_names(day)
        counts: dict[tuple[str, str, str], int] = defaultdict(int)
        rare = 0
        for r in rows:
            if r["name"] in kept:
                counts[r["name"], xy(r["version"]), xy(r["core_version"])] += r["count"]
            elif is_plugin_label(r["name"]):  # as in components: rare names are one "other"
                rare += r["count"]
        entries = [
            {
                "component": name,
                "version": version,
                "core": core,
                "count": counts[name, version, core],
            }
            for name, version, core in ordered(counts, (0, False), (1, True), (2, True))
        ]
        if rare:
            entries.append(
                {"component": OTHER, "version": OTHER, "core": OTHER, "count": rare, OTHER: True}
            )
        return entries

    @staticmethod
    def postgresql_with_core(day: Day) -> list[dict]:
        # Absent and 0 both mean unknown, as does a number that is no server_version_num.
        version = Coalesce(
            Cast(KT("data__postgresql_version"), BigIntegerField()),
            Value(0),
            output_field=BigIntegerField(),
        )
        rows = (
            day.persistent_reports.annotate(
                core=FilteredRelation(
                    "components", condition=Q(components__name="core", components__day=day.date)
                )
            )
            .filter(core__version__isnull=False)
            .annotate(postgresql=version)
            .values("postgresql", core_version=F("core__version"))
            .annotate(count=Count("id"))
            .order_by()
        )
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for r in rows:
            number = r["postgresql"] if is_server_version_num(r["postgresql"]) else 0
            counts[postgresql_major(number), xy(r["core_version"])] += r["count"]
        majors = majors_newest_first({major for major, _ in counts})
        return [
            {"postgresql": major, "core": core, "count": counts[major, core]}
            for major, core in sorted(ordered(counts, (1, True)), key=lambda k: majors.index(k[0]))
        ]

    def charts(self) -> list[Chart]:
        return [
            LatestChart(
                name="compatibility",
                title="Plugin versions by core version",
                description="Persistent systems running the plugin with core, by the plugin's "
                "X.Y (rows) and core's X.Y (columns), on the latest day.",
                kind="bar",
                stacked=True,
                parameters={"component": "the plugin name, e.g. rpm"},
                required=("component",),
                examples={"component": "file"},
                x_label="Plugin version",
                build=self.plugin_matrix,
            ),
            LatestChart(
                name="postgresql-core",
                title="PostgreSQL by core version",
                description="Persistent systems running core, by PostgreSQL major version "
                "(rows) and core's X.Y (columns), on the latest day.",
                kind="bar",
                stacked=True,
                x_label="PostgreSQL",
                build=self.postgresql_matrix,
            ),
        ]

    @staticmethod
    def plugin_matrix(summary: dict | None, params: Mapping[str, str]) -> ChartData:
        entries = [
            e
            for e in (summary or {}).get("compatibility", [])
            if e["component"] == params["component"]
        ]
        return matrix(entries, "version", "core", newest_first_other_last, newest_first_other_last)

    @staticmethod
    def postgresql_matrix(summary: dict | None, params: Mapping[str, str]) -> ChartData:
        entries = (summary or {}).get("postgresql_core", [])
        return matrix(entries, "postgresql", "core", majors_other_last, newest_first_other_last)


def majors_other_last(majors: Iterable[str]) -> list[str]:
    found = set(majors)
    return majors_newest_first(found - {OTHER}) + ([OTHER] if OTHER in found else [])


def ordered(keys: Iterable[tuple], *orders: tuple[int, bool]) -> list[tuple]:
    """Keys sorted by each (position, newest first?) in turn, the first the most significant:
    a version position compares as versions (newest first), a name position as text."""
    result = list(keys)
    for position, versions in reversed(orders):  # stable sorts, least significant first
        if versions:
            result.sort(key=lambda k: version_key(k[position]), reverse=True)
        else:
            result.sort(key=lambda k: k[position])
    return result
