"""The Metric contract: a metric fills its keys of a day's Summary and turns summaries into charts.

A metric is one module in this package, listed in METRICS (metrics/__init__.py). summarize()
aggregates one day in the database; its charts turn a date-ordered series of Summary dicts (the
JSON of summary.proto) into Chart.js-ready data. Pages, URLs, the API, admin and the command read
the registry and need no change when a metric is added.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db.models import QuerySet

from pulpanalytics.models import Component, Report

# {"labels": [...], "datasets": [{"label": str, "data": [number | None, ...]}, ...]}
ChartData = dict
Summaries = Sequence[dict]


class ChartParameterError(ValueError):
    """A chart was asked for with a parameter it does not understand (the API answers 400)."""


@dataclass(frozen=True)
class Day:
    """The raw rows of one UTC day, as querysets a metric aggregates."""

    date: date
    persistent_min_age: int

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
class Chart:
    """One chart: how to draw it and how to build its data from a series of summaries.

    `over_time` charts have one label per day (the API can average them per week or month);
    the others describe the latest day of the series. `parameters` names the query parameters
    `build` accepts besides the range (e.g. {"component": "a component name"}); `required` lists
    those it refuses to build without and `examples` gives a value of each (for the OpenAPI
    document and its test). `x_label` and `y_label` name the axes (and the table's columns).
    """

    name: str
    title: str
    description: str
    kind: str  # Chart.js type: line, bar, pie, doughnut
    build: Callable[[Summaries, Mapping[str, str]], ChartData]
    over_time: bool = True
    stacked: bool = False
    percent: bool = False  # values are percentages
    parameters: Mapping[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    examples: Mapping[str, str] = field(default_factory=dict)
    x_label: str = ""
    y_label: str = ""

    @property
    def x_title(self) -> str:
        return self.x_label or ("Date" if self.over_time else "Label")

    @property
    def y_title(self) -> str:
        return self.y_label or ("% of persistent systems" if self.percent else "Systems")


class Metric(ABC):
    """Subclass, set `name` and `title`, implement summarize() and charts()."""

    name: str = ""
    title: str = ""

    @abstractmethod
    def summarize(self, day: Day) -> dict:
        """This metric's keys of the day's Summary, aggregated in the database."""

    @abstractmethod
    def charts(self) -> list[Chart]:
        """The charts this metric draws from a series of summaries."""
