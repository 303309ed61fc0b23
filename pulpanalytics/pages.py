"""The pages of the site: which charts each shows, and what a page's query string selects.

Every chart comes from the registry (metrics.charts()). A page lists chart names, or takes every
chart whose name starts with a prefix; a metric whose charts are on no page gets a page of its
own, so a metric added later shows up without a change here, in views.py or in urls.py.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from pulpanalytics import metrics
from pulpanalytics.chart_data import (
    SummariesState,
    WindowSummaries,
    chart_data,
    component_names,
    label_heading,
    summaries_state,
    table_rows,
)
from pulpanalytics.chart_query import (
    PAGE_DEFAULT_RANGE,
    RANGE_NAMES,
    QueryError,
    Window,
    parse_granularity,
    parse_window,
)
from pulpanalytics.metrics.base import Chart, ChartData, OverTimeChart
from pulpanalytics.resample import GRANULARITIES

OVERVIEW_CHARTS = ("systems", "plugins")
PLUGIN_LIST_CHARTS = ("plugins", "plugins-over-time")
PLUGIN_CHARTS = ("component-versions", "component-xyz", "component-newer")
FLEET_CHARTS = ("joined-returning",)
MODES = {"count": "Systems", "percent": "Percentages"}


@dataclass(frozen=True)
class Page:
    slug: str  # in its URL, /<slug>/
    title: str
    intro: str
    charts: tuple[str, ...] = ()
    chart_prefix: str = ""  # and every chart of the registry whose name starts with this

    @property
    def url(self) -> str:
        return reverse("chart-page", args=[self.slug])

    def chart_names(self) -> list[str]:
        names = list(self.charts)
        if self.chart_prefix:
            names += [n for n in metrics.charts() if n.startswith(self.chart_prefix)]
        return names


CHART_PAGES = (
    Page(
        "deployments",
        "Deployments",
        "How big a typical persistent installation is: its online workers and content apps, "
        "and the hosts they run on.",
        charts=("online-workers", "online-content-apps"),
    ),
    Page(
        "postgresql",
        "PostgreSQL",
        "Which PostgreSQL versions persistent installations run (reported since pulpcore "
        "3.22; older clients count as unknown).",
        charts=("postgresql-latest", "postgresql"),
    ),
    Page(
        "age",
        "Age of installations",
        "How long the installations that report have been around, counted from the day each "
        "first reported.",
        charts=("age-latest", "age"),
    ),
    Page(
        "rbac",
        "RBAC usage",
        "How much persistent installations use role-based access control (reported since "
        "pulpcore 3.23): users, groups, domains, custom access policies and custom roles.",
        chart_prefix="rbac-",
    ),
)


def chart_pages() -> list[Page]:
    """The chart pages, then a page for each metric none of whose charts has a place."""
    placed = set(OVERVIEW_CHARTS) | set(PLUGIN_LIST_CHARTS) | set(PLUGIN_CHARTS) | set(FLEET_CHARTS)
    for page in CHART_PAGES:
        placed.update(page.chart_names())
    extra = []
    for metric in metrics.METRICS:
        names = tuple(chart.name for chart in metric.charts() if chart.name not in placed)
        if names:
            extra.append(Page(metric.name.replace("_", "-"), metric.title, metric.question, names))
    return [*CHART_PAGES, *extra]


def find_page(slug: str) -> Page | None:
    return next((page for page in chart_pages() if page.slug == slug), None)


def navigation() -> list[tuple[str, str]]:
    """(title, url) of every page, in menu order."""
    return [
        ("Overview", reverse("root")),
        ("Plugins", reverse("plugin-list")),
        *((page.title, page.url) for page in chart_pages()),
        ("Fleet", reverse("fleet")),
        ("About", reverse("about")),
    ]


@dataclass
class ChartBlock:
    """One chart on a page: its data (for the table) and where charts.js fetches it."""

    chart: Chart
    params: dict[str, str]
    data: ChartData
    heading: str
    api_params: dict[str, str]
    percent: bool

    @property
    def over_time(self) -> bool:
        return isinstance(self.chart, OverTimeChart)

    @property
    def dom_id(self) -> str:
        return f"chart-{self.chart.name}"

    @property
    def json_url(self) -> str:
        query = urlencode(self.api_params)
        return reverse("chart-detail", args=[self.chart.name]) + (f"?{query}" if query else "")

    @property
    def csv_url(self) -> str:
        query = urlencode({**self.api_params, "format": "csv"})
        return reverse("chart-detail", args=[self.chart.name]) + f"?{query}"

    @property
    def rows(self) -> list[tuple[str, list]]:
        return table_rows(self.data)

    @property
    def has_data(self) -> bool:
        return bool(self.data["labels"])

    def spec(self) -> dict:
        """What charts.js needs to draw it (through json_script; never inline script)."""
        return {
            "canvas": self.dom_id,
            "url": self.json_url,
            "kind": self.chart.kind,
            "stacked": self.chart.stacked,
            "percent": self.percent,
            "x_title": self.heading,
            "y_title": self.y_title,
        }

    @property
    def y_title(self) -> str:
        if self.percent and not self.chart.percent:  # a count chart asked for percentages
            return "% of the persistent systems running it"
        return self.chart.y_title


@dataclass
class Selection:
    """What a page's query string selects: the days, the granularity, page-specific choices."""

    state: SummariesState
    window: Window
    granularity: str
    keep: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.summaries = WindowSummaries(self.window, state=self.state)

    @property
    def bounds(self) -> tuple[date, date] | None:
        return self.state.bounds

    def _params(self, **changes: str) -> dict[str, str]:
        if self.window.preset == "custom":
            params = self.window.as_params()
        else:
            params = {"range": self.window.preset}
        if self.granularity != "day":
            params["granularity"] = self.granularity
        params.update(self.keep)
        if "range" in changes:
            params.pop("start", None)
            params.pop("end", None)
        params.update(changes)
        if params.get("granularity") == "day":
            del params["granularity"]
        return params

    def link(self, **changes: str) -> str:
        return "?" + urlencode(self._params(**changes))

    def range_links(self) -> list[dict]:
        return [
            {"label": label, "href": self.link(range=key), "current": self.window.preset == key}
            for key, label in RANGE_NAMES.items()
        ]

    def granularity_links(self) -> list[dict]:
        return [
            {
                "label": name.capitalize(),
                "href": self.link(granularity=name),
                "current": self.granularity == name,
            }
            for name in GRANULARITIES
        ]

    def mode_links(self) -> list[dict]:
        return [
            {
                "label": label,
                "href": self.link(mode=key),
                "current": self.keep.get("mode", "count") == key,
            }
            for key, label in MODES.items()
        ]

    def hidden_fields(self) -> dict[str, str]:
        """What the custom range form keeps of the current choice."""
        params = self._params()
        for name in ("range", "start", "end"):
            params.pop(name, None)
        return params

    def block(self, name: str, params: Mapping[str, str] | None = None) -> ChartBlock:
        chart = metrics.charts()[name]
        params = dict(params or {})
        data = chart_data(chart, params=params, granularity=self.granularity, window=self.summaries)
        api_params = {**self.window.as_params(), **params}
        if isinstance(chart, OverTimeChart) and self.granularity != "day":
            api_params["granularity"] = self.granularity
        return ChartBlock(
            chart=chart,
            params=params,
            data=data,
            heading=label_heading(chart, self.granularity),
            api_params=api_params,
            percent=chart.percent or params.get("mode") == "percent",
        )


def select(query: Mapping[str, str], *, keep: Mapping[str, str] | None = None) -> Selection:
    """The selection of a page's query string; raises QueryError (the page answers 400)."""
    state = summaries_state()
    return Selection(
        state=state,
        window=parse_window(query, bounds=state.bounds, default=PAGE_DEFAULT_RANGE),
        granularity=parse_granularity(query),
        keep=dict(keep or {}),
    )


def parse_mode(query: Mapping[str, str]) -> str:
    mode = (query.get("mode") or "").strip() or "count"
    if mode not in MODES:
        raise QueryError(f"mode must be one of {', '.join(MODES)}, not {mode[:40]!r}")
    return mode


def known_component(name: str) -> bool:
    """Whether any summary ever counted a component of this name."""
    everything = WindowSummaries(Window(None, None, "all"))
    return name in component_names(everything)


def plugin_url(name: str) -> str | None:
    """The page of a plugin, or None for a name no URL can hold (names come from reports: one
    with a newline, say, is counted, but gets no page)."""
    try:
        return reverse("plugin-detail", args=[name])
    except NoReverseMatch:
        return None


def plugin_rows(selection: Selection, adoption: ChartData) -> list[dict]:
    """Each component of the window, with its page and its share of persistent systems on its
    latest day (`adoption`: the data of the plugins chart)."""
    shares = dict(zip(adoption["labels"], adoption["datasets"][0]["data"], strict=True))
    return [
        {"name": name, "url": plugin_url(name), "share": shares.get(name)}
        for name in component_names(selection.summaries)
    ]


def plugin_blocks(selection: Selection, *, name: str, mode: str) -> list[ChartBlock]:
    """The charts of one plugin's page; `mode` (count or percent) applies to versions over time."""
    versions, *latest = PLUGIN_CHARTS
    component = {"component": name}
    return [
        selection.block(versions, component | ({"mode": mode} if mode != "count" else {})),
        *(selection.block(chart, component) for chart in latest),
    ]
