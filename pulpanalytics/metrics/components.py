"""Which plugins do persistent installations run, and at which versions?"""

from collections import defaultdict
from collections.abc import Mapping

from django.conf import settings
from django.db.models import Count

from pulpanalytics.metrics.base import Chart, ChartData, Day, LatestChart, Metric, OverTimeChart
from pulpanalytics.metrics.series import newest_first, percent, stacked, xy
from pulpanalytics.plausible import is_plugin_label
from pulpanalytics.public import OTHER, is_other

MODES = ("count", "percent")


def component_of(summary: dict, name: str) -> dict | None:
    """The summary's entry of a component. Storing a day's points asks this for each of its
    components in turn, so the last summary's entries stay indexed by name: linear, not
    quadratic, in the number of components."""
    global _last_indexed
    components = summary["components"]
    # One read of the pair: a request thread computing another day may replace it meanwhile.
    indexed_list, index = _last_indexed
    if indexed_list is not components:
        index = {c["name"]: c for c in components}
        _last_indexed = (components, index)
    return index.get(name)


# (the components list last indexed, its index by name), replaced whole, never changed in place;
# the list is held so that its id stays its own.
_last_indexed: tuple[list | None, dict] = (None, {})


def counted(counts: dict[str, int]) -> list[dict]:
    return [{"version": v, "count": counts[v]} for v in newest_first(counts)]


def each_component(summary: dict) -> list[dict[str, str]]:
    # Any other name has no entry, so its versions chart is empty on this day.
    return [{"component": c["name"]} for c in summary["components"] if not is_other(c)]


def plugin_names(day: Day) -> set[str]:
    """The names the day's `components` lists on their own: plugin labels run by at least
    PLUGIN_MIN_SYSTEMS persistent systems (the other names are folded into "other")."""
    rows = day.persistent_components.values("name").annotate(count=Count("id")).order_by()
    return {
        row["name"]
        for row in rows
        if is_plugin_label(row["name"]) and row["count"] >= settings.PLUGIN_MIN_SYSTEMS
    }


def names_other_last(names: set[str]) -> list[str]:
    return sorted(names - {OTHER}) + ([OTHER] if OTHER in names else [])


class Components(Metric):
    name = "components"
    title = "Plugins and versions"
    question = "Which plugins do persistent installations run, and at which versions?"

    def summarize(self, day: Day) -> dict:
        # One GROUP BY over the day's component rows; the loop below runs over its few hundred
        # (name, version) groups, not over raw rows.
        rows = day.persistent_components.values("name", "version").annotate(count=Count("id"))
        versions: dict[str, dict[str, int]] = defaultdict(dict)
        for row in rows.order_by():
            # Ingest refuses other names; raw rows stored before it did are left out.
            if is_plugin_label(row["name"]):
                versions[row["name"]][row["version"]] = row["count"]
        components, rare = [], 0
        for name in sorted(versions):
            xyz = versions[name]
            systems = sum(xyz.values())
            if systems < settings.PLUGIN_MIN_SYSTEMS:
                rare += systems
                continue
            by_xy: dict[str, int] = defaultdict(int)
            for version, count in xyz.items():
                by_xy[xy(version)] += count
            components.append(
                {"name": name, "systems": systems, "xy": counted(by_xy), "xyz": counted(xyz)}
            )
        if rare:
            # Names run by too few systems (made up, or one site's own plugin): one entry, as the
            # public fold makes it (public.py), so a day's size is bounded by its systems.
            components.append({"name": OTHER, "systems": rare, "xy": [], "xyz": [], OTHER: True})
        return {"components": components}

    def charts(self) -> list[Chart]:
        component = {"component": "the component (plugin) name, e.g. core"}
        example = {"component": "core"}
        return [
            LatestChart(
                name="plugins",
                title="Plugin adoption on the latest day",
                description="Share of persistent systems running each plugin on the latest day.",
                kind="bar",
                percent=True,
                x_label="Plugin",
                build=self.adoption_chart,
            ),
            OverTimeChart(
                name="plugins-over-time",
                title="Plugin adoption over time",
                description="Persistent systems running each plugin, per day: how many, or "
                "their share of all persistent systems.",
                kind="line",
                parameters={"mode": "count (default) or percent"},
                choices={"mode": MODES},
                examples={"mode": "count"},
                series=stacked(self.adoption, names_other_last, percent_mode=True),
            ),
            OverTimeChart(
                name="component-versions",
                title="Versions over time",
                description="Persistent systems running the component, by X.Y version.",
                kind="line",
                stacked=True,
                parameters={**component, "mode": "count (default) or percent"},
                required=("component",),
                choices={"mode": MODES},
                examples={**example, "mode": "count"},
                parameter_sets=each_component,
                series=stacked(self.versions, newest_first, percent_mode=True),
            ),
            LatestChart(
                name="component-xyz",
                title="Versions on the latest day",
                description="Persistent systems running the component, by X.Y.Z version.",
                kind="bar",
                parameters=component,
                required=("component",),
                examples=example,
                x_label="Version",
                build=self.xyz_chart,
            ),
            LatestChart(
                name="component-newer",
                title="On this version or newer on the latest day",
                description="Share of persistent systems running the component that run this "
                "X.Y.Z version or a newer one, on the latest day.",
                kind="bar",
                percent=True,
                cumulative=True,
                parameters=component,
                required=("component",),
                examples=example,
                x_label="Version",
                y_label="% of persistent systems running the component",
                build=self.newer_chart,
            ),
        ]

    @staticmethod
    def adoption_chart(summary: dict | None, params: Mapping[str, str]) -> ChartData:
        # Plugins by share, largest first ("other" last): their names carry no order.
        components = sorted(
            summary["components"] if summary else [],
            key=lambda c: (is_other(c), -c["systems"], c["name"]),
        )
        whole = summary["persistent_systems"] if summary else 0
        return {
            "labels": [c["name"] for c in components],
            "datasets": [
                {
                    "label": "% of persistent systems",
                    "data": [percent(c["systems"], whole) for c in components],
                }
            ],
        }

    @staticmethod
    def adoption(summary: dict, params: Mapping[str, str]) -> dict[str, float | None]:
        if params.get("mode") != "percent":
            return {c["name"]: c["systems"] for c in summary["components"]}
        whole = summary["persistent_systems"]
        if not whole:
            return {}  # a percent of nothing: no value that day
        return {c["name"]: percent(c["systems"], whole) for c in summary["components"]}

    @staticmethod
    def versions(summary: dict, params: Mapping[str, str]) -> dict[str, float | None]:
        component = component_of(summary, params["component"])
        if component is None:
            return {}
        if params.get("mode") == "percent":
            if not component["systems"]:
                return {}  # a percent of nothing: no value that day
            return {
                e["version"]: percent(e["count"], component["systems"]) for e in component["xy"]
            }
        return {e["version"]: e["count"] for e in component["xy"]}

    @staticmethod
    def xyz_chart(summary: dict | None, params: Mapping[str, str]) -> ChartData:
        component = component_of(summary, params["component"]) if summary else None
        entries = component["xyz"] if component else []
        return {
            "labels": [e["version"] for e in entries],
            "datasets": [{"label": "Systems", "data": [e["count"] for e in entries]}],
        }

    @staticmethod
    def newer_chart(summary: dict | None, params: Mapping[str, str]) -> ChartData:
        component = component_of(summary, params["component"]) if summary else None
        entries = component["xyz"] if component else []
        running, shares = 0, []
        for entry in entries:  # newest first, so the running sum is "this version or newer"
            running += entry["count"]
            shares.append(percent(running, component["systems"]))
        return {
            "labels": [e["version"] for e in entries],
            "datasets": [{"label": "% on this version or newer", "data": shares}],
        }
