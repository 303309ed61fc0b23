"""The Metric contract: a metric fills its keys of a day's Summary and turns summaries into charts.

A metric is one module in this package, listed in METRICS (metrics/__init__.py). summarize()
aggregates one day in the database; its charts turn summaries (the JSON of summary.proto) into
Chart.js-ready data, in one of two ways: a LatestChart builds from the latest day's summary, an
OverTimeChart from a point per day (its Series), the points joined. Pages, URLs, the API, admin
and the command read the registry and need no change when a metric is added.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, NotRequired, TypedDict, TypeVar
from urllib.parse import urlencode

from django.db.models import QuerySet

from pulpanalytics.models import Component, Report

T = TypeVar("T")


class Dataset(TypedDict):
    label: str
    data: list[float | int | None]  # one value per label of the chart


class ChartData(TypedDict):
    """Chart.js data, as the API sends it."""

    labels: list[str]
    datasets: list[Dataset]
    # Over-time data per week or month: the periods (labels) with fewer days than they span,
    # and how many days each has (the window cuts the first and last, or days are missing).
    partial: NotRequired[dict[str, int]]


Summaries = Sequence[dict]
# One day's value of each dataset of an over-time chart, by the dataset's label.
Point = dict[str, float | int | None]


@dataclass(frozen=True)
class Day:
    """The raw rows of one UTC day, as querysets a metric aggregates."""

    date: date
    persistent_min_age: int
    # What once() computed for this day, by key.
    shared: dict = field(default_factory=dict, compare=False, repr=False)

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """compute(), done once per day for `key`: metrics that need the same aggregate of the
        day's rows share one query (averages.distributions)."""
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]

    @property
    def reports(self) -> QuerySet[Report]:
        return Report.objects.filter(day=self.date)

    @property
    def persistent_reports(self) -> QuerySet[Report]:
        return self.reports.filter(age_days__gte=self.persistent_min_age)

    @property
    def persistent_components(self) -> QuerySet[Component]:
        return Component.objects.filter(day=self.date, age_days__gte=self.persistent_min_age)


@dataclass(frozen=True)
class Series:
    """How an over-time chart is made: a point per day, then the days' points joined.

    A point is what the chart takes from one day's summary: its value of each dataset, by the
    dataset's label (JSON-able, a few hundred bytes). Points are stored beside the summaries
    (pulpanalytics/points.py), so years of a chart cost a read of small points, not of whole
    summaries. `order` lists the datasets given every label found in the points (a chart with
    fixed datasets ignores its argument); a day whose point lacks a label gets `missing`;
    `label` dresses a point's label as the dataset's label. `empty_is_no_value(params)` says
    whether an empty point means the day has no value at all (a percent of nothing: every
    dataset gets None, and an average per week leaves the day out) rather than 0 of everything.
    """

    point: Callable[[dict, Mapping[str, str]], Point]
    order: Callable[[set[str]], list[str]]
    missing: float | None = 0
    label: Callable[[str], str] = str
    empty_is_no_value: Callable[[Mapping[str, str]], bool] = lambda params: False

    def join(
        self, dates: Sequence[str], points: Sequence[Point], params: Mapping[str, str]
    ) -> ChartData:
        """Chart.js data: the dates as labels, one dataset per label `order` gives."""
        found = {label for point in points for label in point}
        no_value = self.empty_is_no_value(params)

        def value(point: Point, label: str) -> float | int | None:
            if no_value and not point:
                return None
            return point.get(label, self.missing)

        return {
            "labels": list(dates),
            "datasets": [
                {"label": self.label(label), "data": [value(point, label) for point in points]}
                for label in self.order(found)
            ],
        }

    def point_of(self, summary: dict, params: Mapping[str, str]) -> Point:
        """The day's point; empty for a summary made before the chart's metric existed, which
        lacks its keys (the chart has no value that day)."""
        try:
            return self.point(summary, params)
        except KeyError:
            return {}

    def build(self, summaries: Summaries, params: Mapping[str, str]) -> ChartData:
        """The chart straight from whole summaries: what the stored points must give too (the
        tests hold chart_data.build_chart to it)."""
        return self.join(
            [summary["date"] for summary in summaries],
            [self.point_of(summary, params) for summary in summaries],
            params,
        )


def no_parameters(summary: dict) -> list[dict[str, str]]:
    return [{}]


@dataclass(frozen=True, kw_only=True)
class Chart:
    """What every chart has: a name, how it is drawn, and the query parameters it takes.

    `parameters` names the query parameters the chart accepts besides the range (e.g.
    {"component": "a component name"}); `required` lists those it refuses to build without,
    `choices` the values a parameter may take (the first is its default) and `examples` a value
    of each (for the OpenAPI document and its test). The chart is built only with parameters
    chart_query.chart_params() has checked. `x_label` and `y_label` name the axes (and the
    table's columns).
    """

    # The x axis, unless the chart names it.
    default_x_label: ClassVar[str] = "Label"

    name: str
    title: str
    description: str
    kind: str  # Chart.js type: line, bar, pie, doughnut
    stacked: bool = False
    percent: bool = False  # values are percentages
    cumulative: bool = False  # each value adds up those before it ("this version or newer")
    parameters: Mapping[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    examples: Mapping[str, str] = field(default_factory=dict)
    x_label: str = ""
    y_label: str = ""
    # The optional report field the chart counts (e.g. "postgresql_version"): its page says how
    # many of the persistent systems sent it (the `fields` key), the denominator of its numbers.
    reported_field: str = ""

    @property
    def x_title(self) -> str:
        return self.x_label or self.default_x_label

    @property
    def y_title(self) -> str:
        return self.y_label or ("% of persistent systems" if self.percent else "Systems")

    def params_key(self, params: Mapping[str, str]) -> str:
        """The parameters as a canonical string: sorted, without those at their default."""
        kept = sorted(
            (name, value)
            for name, value in params.items()
            if value and value != self.choices.get(name, ("",))[0]
        )
        return urlencode(kept)


@dataclass(frozen=True, kw_only=True)
class LatestChart(Chart):
    """A chart of the latest day of a range: `build(summary, params)` makes its data from that
    day's summary (None when the range has no day)."""

    build: Callable[[dict | None, Mapping[str, str]], ChartData]


@dataclass(frozen=True, kw_only=True)
class OverTimeChart(Chart):
    """A chart of every day of a range, one label per day (the API can average them per week or
    month), made of the days' points (its `series`).

    `parameter_sets(summary)` lists, for a chart with parameters, every set of them (but those in
    `choices`) whose point on that day is not empty: those points are stored, any other is empty.
    """

    default_x_label: ClassVar[str] = "Date"

    series: Series
    parameter_sets: Callable[[dict], list[dict[str, str]]] = no_parameters

    def __post_init__(self) -> None:
        if self.required and self.parameter_sets is no_parameters:
            raise TypeError(f"chart {self.name}: list the sets of its parameters, parameter_sets")

    def every_parameter_set(self, summary: dict) -> list[dict[str, str]]:
        """parameter_sets(summary), each with every combination of the choices."""
        try:
            sets = self.parameter_sets(summary)
        except KeyError:  # a summary made before the chart's metric existed
            sets = []
        for name, values in self.choices.items():
            sets = [{**params, name: value} for params in sets for value in values]
        return sets


class Metric(ABC):
    """Subclass, set `name`, `title` and `question`, implement summarize() and charts()."""

    name: str = ""
    title: str = ""
    question: str = ""  # what its charts answer; the intro of a page of its own

    @abstractmethod
    def summarize(self, day: Day) -> dict:
        """This metric's keys of the day's Summary, aggregated in the database."""

    @abstractmethod
    def charts(self) -> list[Chart]:
        """The charts this metric draws from a series of summaries."""
