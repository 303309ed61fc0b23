"""The data API: daily summaries (as stored, or folded for the public when PUBLIC_MIN_COUNT > 1),
chart data, and the OpenAPI document; every answer with cache validators."""

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from pulpanalytics import chart_data, cohorts, decisions, metrics, openapi
from pulpanalytics.chart_query import QueryError, Window, parse_dates, parse_day, parse_format
from pulpanalytics.models import DailySummary
from pulpanalytics.public import min_count, public_summary

# Summaries change at most once a day (after the nightly run); an hour keeps pages fresh enough.
CACHE_SECONDS = 3600
# The most summaries one answer of the summary list holds (a year, leap or not); more: pages.
PAGE_SIZE = openapi.PAGE_SIZE


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def answers_bad_query(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view, answering 400 with the QueryError's message as {"error": message}."""

    @wraps(view)
    def answer(request: HttpRequest, *args: str, **kwargs: str) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except QueryError as bad:
            return error(400, str(bad))

    return answer


def cached_response(
    request: HttpRequest,
    body: str,
    *,
    last_modified: datetime | None,
    content_type: str = "application/json",
    etag: str = "",
) -> HttpResponse:
    """The body with ETag (its hash, unless given), Last-Modified and Cache-Control, or 304
    when the client has it."""
    etag = etag or chart_data.etag_of(body)
    timestamp = int(last_modified.timestamp()) if last_modified else None
    response = get_conditional_response(request, etag=etag, last_modified=timestamp)
    if response is None:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    return response


@require_GET
@answers_bad_query
def summary_list(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/summaries/?start=&end= -> {"summaries": [...]} in date order, at most
    PAGE_SIZE; when more match, "next" (and a Link header) is the URL of the next page."""
    start, end = parse_dates(request.GET)
    state = chart_data.summaries_state()
    last, following = chart_data.cached(
        ["summary-page", start, end, state.version], lambda: page_bounds(start, end)
    )
    window = chart_data.WindowSummaries(Window(start, last or end, "custom"), state=state)
    next_url = None
    if following:
        query = {"start": following.isoformat(), **({"end": end.isoformat()} if end else {})}
        next_url = request.build_absolute_uri(reverse("summary-list") + "?" + urlencode(query))
    # The cache is bounded in bytes, and keeps no single answer above an eighth of its size
    # (a year of summaries is megabytes): memory_cache.py.
    body, etag = chart_data.cached(
        ["summary-list", window.version, next_url],
        lambda: with_etag(summary_list_body(window, next_url=next_url)),
    )
    response = cached_response(request, body, last_modified=window.last_computed, etag=etag)
    if next_url:
        response["Link"] = f'<{next_url}>; rel="next"'
    return response


def page_bounds(start: date | None, end: date | None) -> tuple[date | None, date | None]:
    """(the last day of the first page, the first day of the next one) of the summaries from
    start to end; (None, None) when they fit in one page."""
    rows = DailySummary.objects.order_by("date")
    if start:
        rows = rows.filter(date__gte=start)
    if end:
        rows = rows.filter(date__lte=end)
    days = list(rows.values_list("date", flat=True)[PAGE_SIZE - 1 : PAGE_SIZE + 1])
    if len(days) < 2:
        return None, None
    return days[0], days[1]


def _dumps(summary: dict) -> str:
    # As summarize stores it, so a folded summary reads like a stored one.
    return json.dumps(summary, separators=(",", ":"))


def summary_list_body(window: chart_data.WindowSummaries, *, next_url: str | None = None) -> str:
    """The summaries of the window as the public may see them, as one JSON document."""
    if min_count() > 1:
        texts: Iterable[str] = (_dumps(s) for s in window.summaries)
    else:
        # Nothing to fold: the stored JSON is served verbatim, no parsing, no re-encoding.
        texts = window.queryset().values_list("json", flat=True)
    more = f',"next":{json.dumps(next_url)}' if next_url else ""
    return '{"summaries":[' + ",".join(texts) + "]" + more + "}"


def with_etag(body: str) -> tuple[str, str]:
    return body, chart_data.etag_of(body)


def public_summary_json(summary: DailySummary) -> str:
    """One stored summary as the public may see it."""
    smallest = min_count()
    if smallest <= 1:
        return summary.json
    return _dumps(public_summary(json.loads(summary.json), min_count=smallest))


def summary_answer(day: date) -> tuple[str, str, datetime] | None:
    """(body, ETag, computed_at) of the day's summary, or None when it has none."""
    summary = DailySummary.objects.filter(date=day).first()
    if summary is None:
        return None
    return *with_etag(public_summary_json(summary)), summary.computed_at


@require_GET
@answers_bad_query
def summary_detail(request: HttpRequest, day: str) -> HttpResponse:
    """GET /api/v1/summaries/<YYYY-MM-DD>/ -> that day's Summary; 404 if there is none."""
    wanted = parse_day(day, "the date")
    version = chart_data.summaries_state().version
    found = chart_data.cached(["summary", wanted, version], lambda: summary_answer(wanted))
    if found is None:
        return error(404, f"no summary for {wanted}")
    body, etag, computed_at = found
    return cached_response(request, body, last_modified=computed_at, etag=etag)


@require_GET
@answers_bad_query
def cohort_list(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/cohorts/[?format=csv] -> {"through": "YYYY-MM", "cohorts": [...]}."""
    output = parse_format(request.GET)
    state = chart_data.summaries_state()
    body, content_type = chart_data.cached(
        ["cohorts-answer", output, *cohorts.version(state)],
        lambda: cohorts.encode(cohorts.fleet(state).cohorts, output=output),
    )
    response = cached_response(
        request, body, last_modified=state.computed, content_type=content_type
    )
    if output == "csv":
        response["Content-Disposition"] = 'attachment; filename="cohorts.csv"'
    return response


@require_GET
def chart_list(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/charts/ -> {"charts": [...]}: every chart of the registry and its URL."""
    charts = [openapi.describe_chart(chart) for chart in metrics.charts().values()]
    return JsonResponse({"charts": charts})


@require_GET
@answers_bad_query
def chart_detail(request: HttpRequest, chart: str) -> HttpResponse:
    """GET /api/v1/charts/<chart>/?range=|start=&end=&granularity=&format=&<chart parameters>"""
    found = metrics.charts().get(chart)
    if found is None:
        listing = reverse("chart-list")
        return error(404, f"no chart named {chart[:60]!r}; GET {listing} lists them")
    try:
        answer = chart_data.answer(found, request.GET)
    except chart_data.UnknownComponent as unknown:
        return error(404, str(unknown))
    response = cached_response(
        request,
        answer.body,
        last_modified=answer.last_modified,
        content_type=answer.content_type,
        etag=answer.etag,
    )
    if answer.content_type.startswith("text/csv"):
        response["Content-Disposition"] = f'attachment; filename="{answer.filename}"'
    return response


def decision_response(
    request: HttpRequest,
    parts: list,
    compute: Callable[[chart_data.SummariesState], dict],
    csv_rows: Callable[[dict], tuple[list[dict], list[str]]],
) -> HttpResponse:
    """A decision answer (decisions.py) as JSON or CSV, cached per version of the summaries like
    the charts; 404 when compute() finds no such component or day."""
    output = parse_format(request.GET)
    state = chart_data.summaries_state()

    def build() -> tuple[int, str, str]:
        try:
            document = compute(state)
        except decisions.NotFound as missing:
            return 404, json.dumps({"error": str(missing)}), "application/json"
        if output == "csv":
            return 200, chart_data.records_csv(*csv_rows(document)), "text/csv; charset=utf-8"
        return 200, json.dumps(document, separators=(",", ":")), "application/json"

    status, body, content_type = chart_data.cached([*parts, output, state.version], build)
    if status != 200:
        return HttpResponse(body, status=status, content_type=content_type)
    response = cached_response(
        request, body, last_modified=state.computed, content_type=content_type
    )
    if output == "csv":
        response["Content-Disposition"] = f'attachment; filename="{parts[0]}.csv"'
    return response


@require_GET
@answers_bad_query
def component_releases(request: HttpRequest, name: str) -> HttpResponse:
    """GET /api/v1/components/<name>/releases/ -> each X.Y, its first_seen and days to 50/90 %."""
    decisions.check_names(request.GET, ("format",))

    def compute(state: chart_data.SummariesState) -> dict:
        decisions.check_component(name, state)
        found = decisions.releases(name, state)
        return {"component": name, "releases": [release.as_dict() for release in found]}

    def rows(document: dict) -> tuple[list[dict], list[str]]:
        columns = ["version", "first_seen", "at_start", "days_to_50", "days_to_90"]
        return document["releases"], columns

    return decision_response(request, ["releases", name], compute, rows)


@require_GET
@answers_bad_query
def component_floor(request: HttpRequest, name: str) -> HttpResponse:
    """GET /api/v1/components/<name>/floor/?date= -> the support levels of a day."""
    decisions.check_names(request.GET, ("date", "format"))
    day = decisions.parse_date(request.GET)

    def compute(state: chart_data.SummariesState) -> dict:
        decisions.check_component(name, state)
        return decisions.floor(name, day, state)

    def rows(document: dict) -> tuple[list[dict], list[str]]:
        shared = {key: document[key] for key in ("component", "date", "systems")}
        levels = [{**shared, **level} for level in document["levels"]]
        return levels, ["component", "date", "systems", "share", "version"]

    return decision_response(request, ["floor", name, day], compute, rows)


@require_GET
@answers_bad_query
def impact(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/impact/?component=&minimum=[&date=] or ?postgresql=: who a minimum leaves."""
    query = decisions.parse_impact(request.GET)

    def compute(state: chart_data.SummariesState) -> dict:
        if query.postgresql:
            return decisions.postgresql_impact(query.postgresql, query.day, state)
        decisions.check_component(query.component, state)
        return decisions.component_impact(query.component, query.minimum, query.day, state)

    def rows(document: dict) -> tuple[list[dict], list[str]]:
        return [document], list(document)

    return decision_response(request, ["impact", query], compute, rows)


@require_GET
def openapi_document(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/openapi.json: this API, described from the chart registry."""
    return HttpResponse(openapi.document_json(), content_type="application/json")
