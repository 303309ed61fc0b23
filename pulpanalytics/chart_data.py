"""Chart data for a window of summarized days: built once, then served from Django's cache.

Summaries of finished days only change when a day is (re-)summarized, so a cache key holds the
version of the summaries (how many there are and the latest computed_at, read with the first and
latest day in one query): a new or re-summarized day changes the key, and stale data is never
served. A warm chart costs that one query. Charts are built from the public summaries (public.py:
small counts folded when PUBLIC_MIN_COUNT > 1), and the key holds PUBLIC_MIN_COUNT too. An
over-time chart reads its stored points of the window's days (points.py), not the summaries.
"""

import csv
import hashlib
import io
import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from django.core.cache import caches
from django.db import connections, router
from django.db.models import QuerySet

from pulpanalytics import metrics, points
from pulpanalytics.chart_query import (
    API_DEFAULT_RANGE,
    Window,
    chart_params,
    parse_format,
    parse_granularity,
    parse_window,
)
from pulpanalytics.days import as_date
from pulpanalytics.metrics.base import Chart, ChartData, OverTimeChart
from pulpanalytics.models import DailySummary
from pulpanalytics.public import OTHER, min_count, public_summary
from pulpanalytics.resample import resample

# The key carries the version of the data, so the timeout only bounds the memory used.
CACHE_SECONDS = 24 * 3600
# Bump when the shape of cached data changes, so a shared cache never serves the old shape.
CACHE_FORMAT = 2
PERIOD_HEADINGS = {"week": "Week (Monday)", "month": "Month"}
# Spreadsheets run a cell that starts with one of these as a formula; component names come from
# the reports, so a CSV cell never starts with one (OWASP's "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEPARATED_FORMULA_RE = re.compile(r"([;,\t|])([=+\-@])")
# The chart whose datasets are the plugins: one per component seen in the window.
ADOPTION_CHART = "plugins-over-time"


@dataclass(frozen=True)
class SummariesState:
    """What is summarized: the first and the latest day, how many days, the latest computed_at.

    A new or re-summarized day changes it, so it versions everything built from summaries.
    """

    first: date | None
    latest: date | None
    count: int
    computed: datetime | None

    @property
    def bounds(self) -> tuple[date, date] | None:
        """The first and the latest summarized day, or None when nothing is summarized yet."""
        return None if self.first is None else (self.first, self.latest)

    @property
    def version(self) -> str:
        computed = self.computed.isoformat() if self.computed else "-"
        return f"{self.count}:{computed}"


# Every warm page, chart and summary answer asks this first: one plain statement, as building the
# ORM's aggregate took longer than PostgreSQL takes to answer it (an index-only count and three
# index ends over a row per day).
STATE_SQL = (
    "SELECT min(date), max(date), count(*), max(computed_at) "  # noqa: S608
    f'FROM "{DailySummary._meta.db_table}"'
)


def summaries_state() -> SummariesState:
    with connections[router.db_for_read(DailySummary)].cursor() as cursor:
        cursor.execute(STATE_SQL)
        first, latest, count, computed = cursor.fetchone()
    if isinstance(computed, str):  # SQLite gives text, in UTC
        computed = datetime.fromisoformat(computed).replace(tzinfo=UTC)
    return SummariesState(
        first and as_date(first), latest and as_date(latest), count, computed or None
    )


@dataclass
class WindowSummaries:
    """The summaries of a window of days, read from the database only when a chart is built."""

    window: Window
    state: SummariesState = field(default_factory=summaries_state)

    def queryset(self) -> QuerySet[DailySummary]:
        rows = DailySummary.objects.order_by("date")
        if self.window.start:
            rows = rows.filter(date__gte=self.window.start)
        if self.window.end:
            rows = rows.filter(date__lte=self.window.end)
        return rows

    @property
    def last_computed(self) -> datetime | None:
        """When the latest summary was computed (of any day: a safe Last-Modified)."""
        return self.state.computed

    @property
    def version(self) -> str:
        return f"{self.window.start}:{self.window.end}:{self.state.version}"

    @cached_property
    def summaries(self) -> list[dict]:
        """The window's summaries as the public may see them."""
        smallest = min_count()
        return [
            public_summary(json.loads(text), min_count=smallest)
            for text in self.queryset().values_list("json", flat=True)
        ]

    @cached_property
    def latest(self) -> dict | None:
        """The last summary of the window as the public may see it, or None."""
        text = self.queryset().reverse().values_list("json", flat=True).first()
        if text is None:
            return None
        return public_summary(json.loads(text), min_count=min_count())


def cache_key(parts: list[Any]) -> str:
    """The key of a value in caches["charts"]; `parts` name the value and its version."""
    # The same summaries make other public data under another PUBLIC_MIN_COUNT.
    text = json.dumps([CACHE_FORMAT, min_count(), *parts], sort_keys=True, default=str)
    return "pulpanalytics:" + hashlib.sha256(text.encode()).hexdigest()


def cached(parts: list[Any], compute: Callable[[], Any]) -> Any:
    """compute(), or what an identical call stored; `parts` name the value and its version."""
    key = cache_key(parts)
    cache = caches["charts"]
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value


def etag_of(body: str | bytes) -> str:
    """The ETag of a response body: a hash of its text, quoted."""
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def used_granularity(chart: Chart, granularity: str) -> str:
    """The granularity a chart is made with: charts of the latest day ignore it."""
    return granularity if isinstance(chart, OverTimeChart) else "day"


def build_chart(
    chart: Chart, *, params: dict[str, str], granularity: str, window: WindowSummaries
) -> ChartData:
    """The chart's data for the window, uncached: an over-time chart from its points (averaged
    per `granularity`), a chart of the latest day from that day's summary."""
    if not isinstance(chart, OverTimeChart):
        return chart.build(window.latest, params)
    dates, found = window_points(chart, params=params, window=window)
    return resample(chart.series.join(dates, found, params), granularity)


def window_points(
    chart: OverTimeChart, *, params: dict[str, str], window: WindowSummaries
) -> tuple[list[str], list]:
    """The chart's dates and points of the window's days: a slice of its points of every day.

    The points of every day are read once per version of the summaries and kept, so that any
    range costs a slice, not a read of its days: ranges picked at will (a cache key each) cannot
    make every request read and parse years of points.
    """
    dates, found = cached(
        ["points", chart.name, chart.params_key(params), window.state.version],
        lambda: points.series_points(chart, params, DailySummary.objects.order_by("date")),
    )
    start = bisect_left(dates, window.window.start.isoformat()) if window.window.start else 0
    end = bisect_right(dates, window.window.end.isoformat()) if window.window.end else len(dates)
    return dates[start:end], found[start:end]


def chart_data(
    chart: Chart, *, params: dict[str, str], granularity: str, window: WindowSummaries
) -> ChartData:
    """The chart's Chart.js data for the window; over-time charts averaged per `granularity`.

    Charts that describe one day ignore the granularity. `params` are checked (chart_params).
    """
    return cached(
        ["chart", chart.name, params, used_granularity(chart, granularity), window.version],
        lambda: build_chart(chart, params=params, granularity=granularity, window=window),
    )


def component_names(window: WindowSummaries) -> list[str]:
    """Every component (plugin) name in any public summary of the window, sorted: the datasets
    of the adoption chart ("other", the components folded for being run by too few systems, is
    no name)."""
    adoption = metrics.charts()[ADOPTION_CHART]
    data = chart_data(adoption, params={}, granularity="day", window=window)
    return [dataset["label"] for dataset in data["datasets"] if dataset["label"] != OTHER]


class UnknownComponent(LookupError):
    """A component (plugin) no summary counted: the API answers 404, as its page does."""


def known_component(name: str, *, state: SummariesState | None = None) -> bool:
    """Whether any summary ever counted a component of this name."""
    everything = WindowSummaries(Window(None, None, "all"), state=state or summaries_state())
    return name in component_names(everything)


def latest_day(window: WindowSummaries) -> date | None:
    """The latest summarized day of the window, or None: the day a chart of the latest day
    shows."""
    return window.queryset().reverse().values_list("date", flat=True).first()


def download_name(chart: Chart, params: Mapping[str, str], output: str) -> str:
    """The file name of a download: the chart, then its parameters not at their default
    (component-versions-core.csv, component-versions-core-percent.csv)."""
    parts = [chart.name]
    for name in chart.parameters:
        value = params.get(name, "")
        if value and value != chart.choices.get(name, ("",))[0]:
            parts.append(re.sub(r"[^A-Za-z0-9_.]+", "_", value)[:60])
    return "-".join(parts) + f".{output}"


def label_heading(chart: Chart, granularity: str) -> str:
    """What the labels of the chart's data are: the x axis title and the first column."""
    if isinstance(chart, OverTimeChart):
        return PERIOD_HEADINGS.get(granularity, chart.x_title)
    return chart.x_title


def table_rows(data: ChartData) -> list[tuple[str, list]]:
    """(label, [value of each dataset]) per label: the chart as a table, one row per label."""
    return [
        (label, [dataset["data"][index] for dataset in data["datasets"]])
        for index, label in enumerate(data["labels"])
    ]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        # A reader that splits on another separator starts a cell after it: defuse it there too.
        value = SEPARATED_FORMULA_RE.sub(r"\1'\2", value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def as_csv(data: ChartData, *, first_column: str) -> str:
    """A header row (the labels' heading, then each dataset's label), then a row per label.

    Every text cell is quoted, numbers are not: a spreadsheet that splits on ";" (or tabs) still
    sees "a;=1+2" as one cell that starts with "a", never a cell that starts a formula.
    """
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([first_column] + [_cell(d["label"]) for d in data["datasets"]])
    for label, values in table_rows(data):
        writer.writerow([_cell(label)] + [_cell(value) for value in values])
    return out.getvalue()


def records_csv(records: list[dict], columns: list[str]) -> str:
    """A header row of `columns`, then one row per record (as_csv's quoting and defusing)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record[column]) for column in columns])
    return out.getvalue()


@dataclass(frozen=True)
class Answer:
    """What the chart API sends: the body and what the response needs to describe it."""

    body: str
    content_type: str
    last_modified: datetime | None
    filename: str
    etag: str


def encode(chart: Chart, data: ChartData, *, output: str, granularity: str) -> tuple[str, str]:
    """(body, content type) of chart data as JSON or CSV."""
    if output == "csv":
        body = as_csv(data, first_column=label_heading(chart, granularity))
        return body, "text/csv; charset=utf-8"
    return json.dumps(data, separators=(",", ":")), "application/json"


def answer(chart: Chart, query: Mapping[str, str]) -> Answer:
    """The chart's data for an API query string, as JSON or CSV. Raises QueryError for
    parameters it cannot use, UnknownComponent for a component no summary counted."""
    output = parse_format(query)
    granularity = parse_granularity(query)
    params = chart_params(chart, query)
    state = summaries_state()
    if "component" in params and not known_component(params["component"], state=state):
        raise UnknownComponent(f"no component {params['component'][:60]!r} in any summary")
    window = WindowSummaries(
        parse_window(query, bounds=state.bounds, default=API_DEFAULT_RANGE), state=state
    )

    def build() -> tuple[str, str, str]:
        data = chart_data(chart, params=params, granularity=granularity, window=window)
        body, content_type = encode(chart, data, output=output, granularity=granularity)
        return body, content_type, etag_of(body)

    # The encoded body is cached too: a warm answer is one query and no encoding.
    used = used_granularity(chart, granularity)
    body, content_type, etag = cached(
        ["answer", chart.name, params, used, output, window.version], build
    )
    return Answer(
        body=body,
        content_type=content_type,
        last_modified=window.last_computed,
        filename=download_name(chart, params, output),
        etag=etag,
    )
