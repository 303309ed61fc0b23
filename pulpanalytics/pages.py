"""The pages of the site: which charts each shows, and what a page's query string selects.

Every chart comes from the registry (metrics.charts()). A page lists chart names, or takes every
chart whose name starts with a prefix; a metric whose charts are on no page gets a page of its
own, so a metric added later shows up without a change here, in views.py or in urls.py.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import Count, Max, Min
from django.urls import NoReverseMatch, reverse

from pulpanalytics import decisions, metrics
from pulpanalytics.chart_data import (
    SummariesState,
    WindowSummaries,
    cached,
    chart_data,
    component_names,
    download_name,
    label_heading,
    latest_day,
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
from pulpanalytics.metrics.base import Chart, ChartData, LatestChart, OverTimeChart
from pulpanalytics.metrics.upgrades import ARROW
from pulpanalytics.models import DailySummary
from pulpanalytics.public import OTHER
from pulpanalytics.resample import GRANULARITIES, period_of

OVERVIEW_CHARTS = ("systems", "plugins")
# The decision pages (views.compatibility, views.upgrades) show these.
COMPATIBILITY_CHARTS = ("compatibility", "postgresql-core")
UPGRADES_CHARTS = ("upgrades", "upgrade-paths")
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
        charts=(
            "online-workers",
            "online-workers-sizes",
            "online-content-apps",
            "online-content-apps-sizes",
        ),
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
    placed = set(OVERVIEW_CHARTS) | set(PLUGIN_LIST_CHARTS) | set(PLUGIN_CHARTS)
    placed |= set(COMPATIBILITY_CHARTS) | set(UPGRADES_CHARTS) | set(FLEET_CHARTS)
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
        ("Compatibility", reverse("compatibility")),
        ("Upgrades", reverse("upgrades")),
        ("Fleet", reverse("fleet")),
        ("Open data", reverse("data-index")),
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
    day: date | None = None  # the day a chart of the latest day shows
    # Vertical lines on an over-time chart: {"label": an x label, "text": what happened}.
    markers: list[dict[str, str]] = field(default_factory=list)
    reported: str = ""  # how many systems sent the optional field the chart counts

    @property
    def over_time(self) -> bool:
        return isinstance(self.chart, OverTimeChart)

    @property
    def title(self) -> str:
        """The chart's title; a chart of the latest day names its day."""
        if isinstance(self.chart, LatestChart) and self.day:
            return self.chart.title.replace("the latest day", self.day.isoformat())
        return self.chart.title

    @property
    def parts(self) -> bool:
        """Whether its series (or bars, or slices) are parts of one whole, so that the smaller
        ones add up to one "other" (a share of systems running a plugin is no such part: a
        system runs several plugins)."""
        pie = self.chart.kind in ("pie", "doughnut")
        return self.chart.stacked or pie or (self.chart.kind == "bar" and not self.percent)

    @property
    def csv_name(self) -> str:
        return download_name(self.chart, self.params, "csv")

    @property
    def json_name(self) -> str:
        return download_name(self.chart, self.params, "json")

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
            "title": self.title,
            "kind": self.chart.kind,
            "stacked": self.chart.stacked,
            "percent": self.percent,
            "parts": self.parts,
            "cumulative": self.chart.cumulative,
            "x_title": self.heading,
            "y_title": self.y_title,
            "markers": self.markers,
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

    @cached_property
    def upstream_days(self) -> dict | None:
        """{"first", "last", "count"} of the window's days imported from the old site (their
        numbers differ: a note under the controls says how), or None when it has none."""
        days = self.summaries.queryset().filter(source=DailySummary.UPSTREAM)
        found = cached(
            ["upstream-days", self.summaries.version],
            lambda: days.aggregate(first=Min("date"), last=Max("date"), count=Count("id")),
        )
        return found if found["count"] else None

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

    @cached_property
    def markers(self) -> list[dict[str, str]]:
        """The first_seen of each core X.Y in the selected days, as x labels of this granularity
        (a release already there on the first summarized day is no event)."""
        if self.state.latest is None:
            return []
        found = cached(
            ["core-releases", self.state.version],
            lambda: [
                (r.version, r.first_seen)
                for r in decisions.releases("core", self.state)
                if not r.at_start
            ],
        )
        start, end = self.window.start or date.min, self.window.end or date.max
        return [
            {"label": period_of(day.isoformat(), self.granularity), "text": f"core {version}"}
            for version, day in reversed(found)
            if start <= day <= end
        ]

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
            day=None if isinstance(chart, OverTimeChart) else latest_day(self.summaries),
            markers=self.markers if isinstance(chart, OverTimeChart) else [],
            reported=self.reported(chart.reported_field),
        )

    def reported(self, field_name: str) -> str:
        """ "N of M persistent systems report this (on D)": how many of the window's latest
        day's persistent systems sent the optional field a chart counts, or "" (no such field,
        or a day summarized before the `fields` key existed)."""
        latest = self.summaries.latest if field_name else None
        entry = next(
            (e for e in (latest or {}).get("fields", []) if e.get("field") == field_name), None
        )
        if entry is None:
            return ""
        whole = latest["persistent_systems"]
        return (
            f"{entry['systems']:,} of {whole:,} persistent systems report this "
            f"(on {latest['date']}); the numbers are of those that do."
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


def plugin_list_blocks(selection: Selection, *, mode: str) -> list[ChartBlock]:
    """The charts of the plugin list; `mode` (count or percent) applies to adoption over time."""
    latest, over_time = PLUGIN_LIST_CHARTS
    return [
        selection.block(latest),
        selection.block(over_time, {"mode": mode} if mode != "count" else {}),
    ]


def plugin_blocks(selection: Selection, *, name: str, mode: str) -> list[ChartBlock]:
    """The charts of one plugin's page; `mode` (count or percent) applies to versions over time."""
    versions, *latest = PLUGIN_CHARTS
    component = {"component": name}
    return [
        selection.block(versions, component | ({"mode": mode} if mode != "count" else {})),
        *(selection.block(chart, component) for chart in latest),
    ]


# --- the decision pages (docs/design.md) ---


@dataclass
class InlineBlock(ChartBlock):
    """A chart made on the page (not in the chart registry): its data goes to charts.js in the
    page's chart list, and its downloads are those of the decision API behind it."""

    download: str = ""  # the API path of the numbers

    @property
    def over_time(self) -> bool:
        # A day per row, like an over-time chart: its long table starts closed.
        return True

    @property
    def json_url(self) -> str:
        return self.download

    @property
    def csv_url(self) -> str:
        return self.download + "?" + urlencode({"format": "csv"})

    def spec(self) -> dict:
        return {**super().spec(), "url": "", "data": self.data}


RELEASE_ADOPTION = Chart(
    name="release-adoption",
    title="Adoption of each release",
    description="Share of the persistent systems running the plugin that run this X.Y or a "
    "newer one, by days since the X.Y was first seen (the newest six X.Y).",
    kind="line",
    percent=True,
    x_label="Days since first seen",
    y_label="% on this X.Y or newer",
)


def release_adoption(name: str, state: SummariesState) -> InlineBlock:
    data = cached(
        ["adoption-curves", name, state.version],
        lambda: decisions.adoption_curves(name, state),
    )
    return InlineBlock(
        chart=RELEASE_ADOPTION,
        params={"component": name},
        data=data,
        heading=RELEASE_ADOPTION.x_title,
        api_params={},
        percent=True,
        download=reverse("releases", args=[name]),
    )


@dataclass
class PluginDecisions:
    """The plugin page's answers: releases, support levels, and the impact of a minimum."""

    adoption: InlineBlock
    releases: list[dict]
    floor: dict
    minimum: str
    impact: dict | None


def plugin_decisions(name: str, query: Mapping[str, str], state: SummariesState) -> PluginDecisions:
    """Raises QueryError for a minimum that is no version."""
    minimum = (query.get("minimum") or "").strip()
    if minimum:
        decisions.parse_version(minimum, "minimum", decisions.VERSION_RE, "3.45.0")
    releases = cached(
        ["releases-page", name, state.version],
        lambda: [r.as_dict() for r in decisions.releases(name, state)],
    )
    floor = decisions.floor(name, None, state) if state.latest else {"levels": [], "systems": 0}
    impact = (
        decisions.component_impact(name, minimum, None, state) if minimum and state.latest else None
    )
    return PluginDecisions(release_adoption(name, state), releases, floor, minimum, impact)


# Shades of a table cell: its count against the table's largest, in SHADES steps (site.css).
SHADES = 5


@dataclass
class Matrix:
    """A chart of counts by two versions (rows: its labels, columns: its datasets) as a shaded
    table; each cell (count, shade 0..SHADES)."""

    title: str
    row_heading: str
    columns: list[str]
    rows: list[tuple[str, list[tuple[int, int]]]]
    total: int
    csv_url: str


def matrix(title: str, row_heading: str, block: ChartBlock) -> Matrix:
    data = block.data
    values = [v or 0 for dataset in data["datasets"] for v in dataset["data"]]
    largest = max(values, default=0)

    def shade(value: int) -> int:
        return 0 if not value else max(1, round(SHADES * value / largest))

    rows = [
        (label, [(d["data"][index] or 0, shade(d["data"][index] or 0)) for d in data["datasets"]])
        for index, label in enumerate(data["labels"])
    ]
    columns = [dataset["label"] for dataset in data["datasets"]]
    return Matrix(title, row_heading, columns, rows, sum(values), block.csv_url)


def compatibility_tables(selection: Selection) -> tuple[Matrix, list[tuple[str, Matrix]]]:
    """PostgreSQL x core, then each plugin's X.Y x core, on the latest day of the selection."""
    postgresql = selection.block("postgresql-core")
    latest = selection.summaries.latest or {}
    plugins = sorted(
        {e["component"] for e in latest.get("compatibility", []) if e["component"] != OTHER}
    )
    tables = []
    for name in plugins:
        block = selection.block("compatibility", {"component": name})
        tables.append((name, matrix(f"{name} by core version", f"{name} X.Y", block)))
    return matrix("PostgreSQL by core version", "PostgreSQL", postgresql), tables


@dataclass
class UpgradePaths:
    component: str
    rows: list[tuple[str, str, float]]  # (from, to, systems in the selected days)
    total: float


def upgrade_paths(selection: Selection) -> list[UpgradePaths]:
    """Each component's version changes (from -> to) summed over the selected days, most first."""
    day_by_day = Selection(state=selection.state, window=selection.window, granularity="day")
    per_component = chart_data(
        metrics.charts()["upgrades"], params={}, granularity="day", window=day_by_day.summaries
    )
    found = []
    for dataset in per_component["datasets"]:
        name = dataset["label"]
        if name == OTHER or not sum(v or 0 for v in dataset["data"]):
            continue
        paths = day_by_day.block("upgrade-paths", {"component": name}).data
        rows = []
        for path in paths["datasets"]:
            before, _, after = path["label"].partition(ARROW)
            rows.append((before, after, sum(v or 0 for v in path["data"])))
        rows.sort(key=lambda row: -row[2])
        found.append(UpgradePaths(name, rows, sum(row[2] for row in rows)))
    return found
