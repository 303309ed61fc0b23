"""What maintainers decide from the summaries (docs/design.md): when each release of a component
first ran and how fast it spread, the versions most installations already have (support levels),
and whom a new minimum (a component version, or a PostgreSQL major) would leave behind.

Everything is built from the public summaries (PUBLIC_MIN_COUNT applies): release adoption from
the stored points of the component-versions chart (a few numbers per day, not whole summaries),
a day's levels and impact from that day's summary. An "other" entry (small counts folded) has no
version: it counts among the systems but is never below or above a version.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from pulpanalytics import chart_data, metrics
from pulpanalytics.chart_query import QueryError, Window, parse_day
from pulpanalytics.metrics.base import Point
from pulpanalytics.metrics.components import component_of
from pulpanalytics.metrics.series import newest_first, postgresql_major, version_key
from pulpanalytics.models import DailySummary
from pulpanalytics.public import OTHER, is_other, min_count, public_summary

# Shares of the component's persistent systems a support level is given for.
LEVELS = (50, 75, 90, 95)
# days_to_N of each release.
ADOPTION = (50, 90)
# A version to compare with: digits and dots ("3.45.0", "3.45"); a PostgreSQL major ("14", "9.6").
VERSION_RE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9}){0,5}")
MAJOR_RE = re.compile(r"[0-9]{1,4}(\.[0-9]{1,4})?")
VERSIONS_CHART = "component-versions"


class NotFound(LookupError):
    """No such component, or no summary of that day (404); the message says which."""


@dataclass(frozen=True)
class Release:
    version: str  # X.Y
    first_seen: date
    at_start: bool
    days_to: dict[int, int | None]

    def as_dict(self) -> dict:
        return {
            "version": self.version,
            "first_seen": self.first_seen.isoformat(),
            "at_start": self.at_start,
            **{f"days_to_{share}": self.days_to[share] for share in ADOPTION},
        }


def every_day(state: chart_data.SummariesState) -> chart_data.WindowSummaries:
    return chart_data.WindowSummaries(Window(None, None, "all"), state=state)


def check_component(name: str, state: chart_data.SummariesState) -> None:
    """NotFound unless some public summary counts the component."""
    if name == OTHER or name not in chart_data.component_names(every_day(state)):
        raise NotFound(f"no component {name[:60]!r} in any summary")


def daily_versions(name: str, state: chart_data.SummariesState) -> list[tuple[date, Point]]:
    """(day, {X.Y: persistent systems}) of every summarized day that counts the component."""
    chart = metrics.charts()[VERSIONS_CHART]
    dates, found = chart_data.window_points(
        chart, params={"component": name}, window=every_day(state)
    )
    return [(date.fromisoformat(d), point) for d, point in zip(dates, found, strict=True) if point]


def share_on_or_newer(point: Point, version: str) -> tuple[int, int]:
    """(systems on `version` or a newer one, all systems) of a day's point."""
    wanted = version_key(version)
    newer = sum(n for v, n in point.items() if v != OTHER and version_key(v) >= wanted)
    return newer, sum(point.values())


def releases(name: str, state: chart_data.SummariesState) -> list[Release]:
    """Each X.Y of the component ever counted, newest first."""
    days = daily_versions(name, state)
    first_seen: dict[str, date] = {}
    for day, point in days:
        for version in point:
            if version != OTHER:
                first_seen.setdefault(version, day)
    start = days[0][0] if days else None
    found = []
    for version in newest_first(first_seen):
        since = first_seen[version]
        days_to: dict[int, int | None] = dict.fromkeys(ADOPTION)
        for day, point in days:
            if day < since:
                continue
            newer, whole = share_on_or_newer(point, version)
            for share in ADOPTION:
                if days_to[share] is None and whole and newer * 100 >= share * whole:
                    days_to[share] = (day - since).days
        found.append(Release(version, since, since == start, days_to))
    return found


def adoption_curves(name: str, state: chart_data.SummariesState, *, latest: int = 6) -> dict:
    """Chart.js data: for each of the `latest` newest X.Y, the share of the component's systems
    on it or newer, by days since its first_seen (None where no day has the component)."""
    days = daily_versions(name, state)
    chosen = releases(name, state)[:latest]
    if not chosen:
        return {"labels": [], "datasets": []}
    shares = {day: point for day, point in days}
    last = days[-1][0]
    length = max((last - r.first_seen).days for r in chosen) + 1
    datasets = []
    for release in reversed(chosen):  # oldest first: the legend reads in release order
        data: list[float | None] = [None] * length
        for day, point in shares.items():
            offset = (day - release.first_seen).days
            if offset >= 0:
                newer, whole = share_on_or_newer(point, release.version)
                data[offset] = round(100 * newer / whole, 2) if whole else None
        datasets.append({"label": release.version, "data": data})
    return {"labels": [str(n) for n in range(length)], "datasets": datasets}


def summary_of(day: date | None, state: chart_data.SummariesState) -> dict:
    """The public summary of `day` (default: the latest summarized day); NotFound without one."""
    wanted = day or state.latest
    text = DailySummary.objects.filter(date=wanted).values_list("json", flat=True).first()
    if wanted is None or text is None:
        raise NotFound(f"no summary for {wanted}" if wanted else "nothing is summarized yet")
    return public_summary(json.loads(text), min_count=min_count())


def floor(name: str, day: date | None, state: chart_data.SummariesState) -> dict:
    """The support levels of the component on a day: for each share, the newest X.Y.Z that at
    least that share of its persistent systems already run (that version or a newer one)."""
    summary = summary_of(day, state)
    component = component_of(summary, name) or {"systems": 0, "xyz": []}
    systems = component["systems"]
    levels = []
    for share in LEVELS:
        running, version = 0, None
        for entry in component["xyz"]:  # newest first
            if is_other(entry):
                continue
            running += entry["count"]
            if running * 100 >= share * systems:
                version = entry["version"]
                break
        levels.append({"share": share, "version": version})
    return {"component": name, "date": summary["date"], "systems": systems, "levels": levels}


def _share(below: int, systems: int) -> float | None:
    return round(below / systems, 3) if systems else None


def component_impact(name: str, minimum: str, day: date | None, state) -> dict:
    """Persistent systems running the component at a full version older than `minimum`."""
    summary = summary_of(day, state)
    component = component_of(summary, name) or {"systems": 0, "xyz": []}
    wanted = version_key(minimum)
    below = sum(
        e["count"]
        for e in component["xyz"]
        if not is_other(e) and version_key(e["version"]) < wanted
    )
    systems = component["systems"]
    return {
        "date": summary["date"],
        "component": name,
        "minimum": minimum,
        "systems": systems,
        "below": below,
        "share": _share(below, systems),
    }


def postgresql_impact(major: str, day: date | None, state) -> dict:
    """Persistent systems with a known PostgreSQL whose major is older than `major`."""
    summary = summary_of(day, state)
    wanted = version_key(major)
    systems = below = unknown = 0
    for entry in summary["postgresql_versions"]:
        if not is_other(entry) and entry["version"] == 0:
            unknown += entry["count"]
            continue
        systems += entry["count"]
        if not is_other(entry) and version_key(postgresql_major(entry["version"])) < wanted:
            below += entry["count"]
    return {
        "date": summary["date"],
        "postgresql": major,
        "systems": systems,
        "below": below,
        "unknown": unknown,
        "share": _share(below, systems),
    }


# --- query strings ---


def _value(query: Mapping[str, str], name: str) -> str:
    return (query.get(name) or "").strip()


def check_names(query: Mapping[str, str], accepted: tuple[str, ...]) -> None:
    unknown = sorted(set(query) - set(accepted))
    if unknown:
        raise QueryError(f"unknown parameter {unknown[0][:40]!r}; this takes {', '.join(accepted)}")


def parse_date(query: Mapping[str, str]) -> date | None:
    text = _value(query, "date")
    return parse_day(text, "date") if text else None


def parse_version(text: str, name: str, pattern: re.Pattern, example: str) -> str:
    if not pattern.fullmatch(text):
        raise QueryError(f"{name} must be a version such as {example}, not {text[:40]!r}")
    return text


@dataclass(frozen=True)
class ImpactQuery:
    day: date | None
    component: str = ""
    minimum: str = ""
    postgresql: str = ""


def parse_impact(query: Mapping[str, str]) -> ImpactQuery:
    """component=&minimum= or postgresql=, and an optional date; QueryError otherwise."""
    check_names(query, ("component", "minimum", "postgresql", "date", "format"))
    day = parse_date(query)
    component, minimum = _value(query, "component"), _value(query, "minimum")
    postgresql = _value(query, "postgresql")
    if postgresql:
        if component or minimum:
            raise QueryError("give either component and minimum, or postgresql, not both")
        return ImpactQuery(day, postgresql=parse_version(postgresql, "postgresql", MAJOR_RE, "14"))
    if not component or not minimum:
        raise QueryError(
            "give component and minimum (e.g. component=core&minimum=3.45.0), or postgresql"
        )
    return ImpactQuery(
        day, component=component, minimum=parse_version(minimum, "minimum", VERSION_RE, "3.45.0")
    )
