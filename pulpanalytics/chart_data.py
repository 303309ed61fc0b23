"""Chart data for a window of summarized days: built once, then served from Django's cache.

Summaries of finished days only change when a day is (re-)summarized, so the cache key holds a
version of the window's summaries (how many there are and the latest computed_at): a new or
re-summarized day changes the key, and stale data is never served. Charts are built from the
public summaries (public.py: small counts folded when PUBLIC_MIN_COUNT > 1), and the key holds
PUBLIC_MIN_COUNT too.
"""

import csv
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from django.core.cache import caches
from django.db.models import Count, Max, Min, QuerySet

from pulpanalytics.chart_query import (
    API_DEFAULT_RANGE,
    Window,
    chart_params,
    parse_format,
    parse_granularity,
    parse_window,
)
from pulpanalytics.metrics.base import Chart, ChartData
from pulpanalytics.models import DailySummary
from pulpanalytics.public import is_other, min_count, public_summary
from pulpanalytics.resample import resample

# The key carries the version of the data, so the timeout only bounds the memory used.
CACHE_SECONDS = 24 * 3600
# Bump when the shape of cached data changes, so a shared cache never serves the old shape.
CACHE_FORMAT = 1
PERIOD_HEADINGS = {"week": "Week (Monday)", "month": "Month"}
# Spreadsheets run a cell that starts with one of these as a formula; component names come from
# the reports, so a CSV cell never starts with one (OWASP's "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def summary_bounds() -> tuple[date, date] | None:
    """The first and the latest summarized day, or None when nothing is summarized yet."""
    found = DailySummary.objects.aggregate(first=Min("date"), latest=Max("date"))
    if found["first"] is None:
        return None
    return found["first"], found["latest"]


@dataclass
class WindowSummaries:
    """The summaries of a window of days, read from the database only when a chart is built."""

    window: Window

    def queryset(self) -> QuerySet[DailySummary]:
        rows = DailySummary.objects.order_by("date")
        if self.window.start:
            rows = rows.filter(date__gte=self.window.start)
        if self.window.end:
            rows = rows.filter(date__lte=self.window.end)
        return rows

    @cached_property
    def _version(self) -> dict:
        return self.queryset().aggregate(count=Count("id"), computed=Max("computed_at"))

    @property
    def count(self) -> int:
        return self._version["count"]

    @property
    def last_computed(self) -> datetime | None:
        return self._version["computed"]

    @property
    def version(self) -> str:
        computed = self.last_computed.isoformat() if self.last_computed else "-"
        return f"{self.window.start}:{self.window.end}:{self.count}:{computed}"

    @cached_property
    def summaries(self) -> list[dict]:
        """The window's summaries as the public may see them."""
        smallest = min_count()
        return [
            public_summary(json.loads(text), min_count=smallest)
            for text in self.queryset().values_list("json", flat=True)
        ]

    @cached_property
    def latest(self) -> list[dict]:
        """The last summary of the window alone (as a one-item series, as the public may see
        it), or none."""
        text = self.queryset().reverse().values_list("json", flat=True).first()
        if text is None:
            return []
        return [public_summary(json.loads(text), min_count=min_count())]


def cached(parts: list[Any], compute: Callable[[], Any]) -> Any:
    """compute(), or what an identical call stored; `parts` name the value and its version."""
    # The same summaries make other public data under another PUBLIC_MIN_COUNT.
    text = json.dumps([CACHE_FORMAT, min_count(), *parts], sort_keys=True, default=str)
    key = "pulpanalytics:" + hashlib.sha256(text.encode()).hexdigest()
    cache = caches["charts"]
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value


def chart_data(
    chart: Chart, *, params: dict[str, str], granularity: str, window: WindowSummaries
) -> ChartData:
    """The chart's Chart.js data for the window; over-time charts averaged per `granularity`.

    Charts that describe one day ignore the granularity. Raises the chart's ChartParameterError.
    """

    def build() -> ChartData:
        if not chart.over_time:
            # A chart of the latest day needs one summary, not years of them.
            return chart.build(window.latest, params)
        return resample(chart.build(window.summaries, params), granularity)

    used_granularity = granularity if chart.over_time else "day"
    return cached(["chart", chart.name, params, used_granularity, window.version], build)


def component_names(window: WindowSummaries) -> list[str]:
    """Every component (plugin) name in any public summary of the window, sorted ("other",
    the components folded for being run by too few systems, is no name)."""

    def collect() -> list[str]:
        return sorted(
            {
                c["name"]
                for summary in window.summaries
                for c in summary.get("components", [])
                if not is_other(c)
            }
        )

    return cached(["component-names", window.version], collect)


def label_heading(chart: Chart, granularity: str) -> str:
    """What the labels of the chart's data are: the x axis title and the first column."""
    if chart.over_time:
        return PERIOD_HEADINGS.get(granularity, chart.x_title)
    return chart.x_title


def table_rows(data: ChartData) -> list[tuple[str, list]]:
    """(label, [value of each dataset]) per label: the chart as a table, one row per label."""
    return [
        (label, [dataset["data"][index] for dataset in data["datasets"]])
        for index, label in enumerate(data["labels"])
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)


def as_csv(data: ChartData, *, first_column: str) -> str:
    """A header row (the labels' heading, then each dataset's label), then a row per label."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([first_column] + [_cell(d["label"]) for d in data["datasets"]])
    for label, values in table_rows(data):
        writer.writerow([_cell(label)] + [_cell(value) for value in values])
    return out.getvalue()


@dataclass(frozen=True)
class Answer:
    """What the chart API sends: the body and what the response needs to describe it."""

    body: str
    content_type: str
    last_modified: datetime | None
    filename: str


def answer(chart: Chart, query: Mapping[str, str]) -> Answer:
    """The chart's data for an API query string, as JSON or CSV. Raises QueryError and the
    chart's ChartParameterError for parameters it cannot use."""
    output = parse_format(query)
    granularity = parse_granularity(query)
    params = chart_params(chart, query)
    window = WindowSummaries(
        parse_window(query, bounds=summary_bounds(), default=API_DEFAULT_RANGE)
    )
    data = chart_data(chart, params=params, granularity=granularity, window=window)
    if output == "csv":
        body = as_csv(data, first_column=label_heading(chart, granularity))
        content_type = "text/csv; charset=utf-8"
    else:
        body = json.dumps(data, separators=(",", ":"))
        content_type = "application/json"
    return Answer(
        body=body,
        content_type=content_type,
        last_modified=window.last_computed,
        filename=f"{chart.name}.{output}",
    )
