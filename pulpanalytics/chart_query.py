"""What a page or the API is asked for: a range of days, a granularity, a format and a chart's
own parameters.

The same query string drives a page and the chart API, so a view can be shared by its URL.
Parsing is strict: anything unexpected is a QueryError whose message the client sees (400), on a
page and in the API alike.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from pulpanalytics import days
from pulpanalytics.metrics.base import Chart
from pulpanalytics.resample import GRANULARITIES

# Presets, in days counted back from the latest summarized day (inclusive); None = every day.
RANGES: dict[str, int | None] = {"30d": 30, "90d": 90, "1y": 365, "all": None}
RANGE_NAMES = {"30d": "Last 30 days", "90d": "Last 90 days", "1y": "Last year", "all": "All"}
FORMATS = ("json", "csv")
# The parameters every chart takes; a chart's own parameters come on top.
COMMON = ("range", "start", "end", "granularity", "format")
API_DEFAULT_RANGE = "all"
PAGE_DEFAULT_RANGE = "90d"


class QueryError(ValueError):
    """A query or path parameter that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Window:
    """The days to chart, both bounds inclusive; None leaves that side open."""

    start: date | None
    end: date | None
    preset: str  # a key of RANGES, or "custom" for start/end

    def as_params(self) -> dict[str, str]:
        """Explicit dates, so that a download link keeps meaning the same days tomorrow."""
        params = {}
        if self.start:
            params["start"] = self.start.isoformat()
        if self.end:
            params["end"] = self.end.isoformat()
        return params


def _value(query: Mapping[str, str], name: str) -> str:
    # An HTML form sends empty fields (start=&end=): empty means absent.
    return (query.get(name) or "").strip()


def parse_day(text: str, name: str) -> date:
    """A day written YYYY-MM-DD; `name` says where it came from in the message."""
    day = days.parse_day(text)
    if day is None:
        raise QueryError(f"{name} must be a date in the form YYYY-MM-DD, not {text[:40]!r}")
    return day


def parse_dates(query: Mapping[str, str]) -> tuple[date | None, date | None]:
    """`start` and `end`, both inclusive and optional."""
    start, end = (
        parse_day(_value(query, name), name) if _value(query, name) else None
        for name in ("start", "end")
    )
    if start and end and start > end:
        raise QueryError(f"start {start} is after end {end}")
    return start, end


def parse_window(
    query: Mapping[str, str], *, bounds: tuple[date, date] | None, default: str
) -> Window:
    """`range` (a preset resolved against `bounds`, the first and latest summarized days) or
    `start`/`end`; neither -> the `default` preset."""
    preset = _value(query, "range")
    start, end = parse_dates(query)
    if preset and (start or end):
        raise QueryError("give either range or start/end, not both")
    if start or end:
        return Window(start, end, "custom")
    preset = preset or default
    if preset not in RANGES:
        raise QueryError(f"range must be one of {', '.join(RANGES)}, not {preset[:40]!r}")
    if bounds is None:
        return Window(None, None, preset)
    first, latest = bounds
    length = RANGES[preset]
    start = first if length is None else max(first, latest - timedelta(days=length - 1))
    return Window(start, latest, preset)


def parse_granularity(query: Mapping[str, str]) -> str:
    granularity = _value(query, "granularity") or "day"
    if granularity not in GRANULARITIES:
        raise QueryError(
            f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity[:40]!r}"
        )
    return granularity


def parse_format(query: Mapping[str, str]) -> str:
    chosen = _value(query, "format") or "json"
    if chosen not in FORMATS:
        raise QueryError(f"format must be one of {', '.join(FORMATS)}, not {chosen[:40]!r}")
    return chosen


def chart_params(chart: Chart, query: Mapping[str, str]) -> dict[str, str]:
    """The chart's own parameters; an unknown or missing required one is a QueryError."""
    unknown = sorted(set(query) - set(COMMON) - set(chart.parameters))
    if unknown:
        accepted = ", ".join([*COMMON, *chart.parameters])
        raise QueryError(
            f"unknown parameter {unknown[0][:40]!r} for chart {chart.name}; it takes {accepted}"
        )
    params = {name: _value(query, name) for name in chart.parameters if _value(query, name)}
    for name in chart.required:
        if name not in params:
            raise QueryError(f"chart {chart.name} needs the parameter {name!r}")
    for name, choices in chart.choices.items():
        if name in params and params[name] not in choices:
            raise QueryError(
                f"{name} must be one of {', '.join(choices)}, not {params[name][:40]!r}"
            )
    return params
