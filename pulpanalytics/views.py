"""Thin views: the site root (overview page on GET, report ingest on POST) and the pages."""

import logging
import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from pulpanalytics import cohorts, limits, pages
from pulpanalytics.chart_data import known_component
from pulpanalytics.chart_query import QueryError
from pulpanalytics.headlines import headlines
from pulpanalytics.ingest import count_request, ingest
from pulpanalytics.page_cache import cached_page
from pulpanalytics.prometheus import count_report

logger = logging.getLogger(__name__)

ROOT_METHODS = ("GET", "HEAD", "POST")
# ASCII digits only: int() would also take "١٢" and choke on "²", which str.isdigit() lets by.
CONTENT_LENGTH_RE = re.compile(r"[0-9]{1,20}")


def _plain(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


# The only CSRF-exempt view: pulpcore posts without cookies or tokens.
@csrf_exempt
def root(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return receive_report(request)
    if request.method in ROOT_METHODS:
        return overview(request)
    # Not @require_http_methods: its 405 has no body, and every rejection says what is wrong.
    response = _plain("method not allowed: use GET, HEAD or POST", 405)
    response["Allow"] = ", ".join(ROOT_METHODS)
    return response


def receive_report(request: HttpRequest) -> HttpResponse:
    """POST /: one protobuf Telemetry report. Content-Type is ignored (pulpcore sends none).

    Every request counts against the client's report limit: a report to store where it is
    stored (ingest.py, in the same round trip), any other request here or in ingest()."""
    client = limits.client_address(request)
    limit = settings.MAX_REPORT_BYTES
    body = b""
    refusal = _refuse_by_headers(request)
    if refusal is None:
        body = request.read(limit + 1)
        if len(body) > limit:
            refusal = (413, f"report larger than {limit} bytes", "too_large")
    if refusal is not None:
        limited = count_request(client)
        if limited is not None:
            return _limited(limited.retry_after, limited.message, limited.reason)
        return _reject(*refusal)
    outcome = ingest(body=body, received_at=timezone.now(), client=client)
    if outcome.kind == "limited":
        return _limited(outcome.retry_after, outcome.message, outcome.reason)
    count_report(outcome=outcome.kind, reason=outcome.reason, implausible=outcome.implausible)
    if outcome.kind != "stored":
        logger.info(
            "report %s: %s",
            outcome.kind,
            outcome.reason or outcome.message,
            extra={"outcome": outcome.kind, "reason": outcome.reason},
        )
    return _plain(outcome.message, outcome.status)


def _refuse_by_headers(request: HttpRequest) -> tuple[int, str, str] | None:
    """Status, message and reason for a request refused on its headers alone, before any body
    byte is read."""
    if request.headers.get("Content-Encoding", "identity").strip().lower() not in {"", "identity"}:
        return 415, "Content-Encoding is not supported; send the plain body", "encoding"
    declared = request.META.get("CONTENT_LENGTH", "")
    if not declared:
        return 411, "Content-Length required", "no_length"
    if not CONTENT_LENGTH_RE.fullmatch(declared):
        return 400, "Content-Length is not a number", "bad_length"
    # Refuse before reading the body when the client already says it is too big.
    if int(declared) > settings.MAX_REPORT_BYTES:
        return 413, f"report larger than {settings.MAX_REPORT_BYTES} bytes", "too_large"
    return None


def _reject(status: int, message: str, reason: str) -> HttpResponse:
    _count_rejection(reason)
    return _plain(message, status)


def _limited(wait: int, message: str, reason: str) -> HttpResponse:
    _count_rejection(reason)
    return limits.too_many(wait, message)


def _count_rejection(reason: str) -> None:
    count_report(outcome="rejected", reason=reason)
    logger.info("report rejected: %s", reason, extra={"outcome": "rejected", "reason": reason})


def answers_bad_query(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The page view, answering 400 with the bad query page when its query string is unusable."""

    @wraps(view)
    def page(request: HttpRequest, *args: str, **kwargs: str) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except QueryError as bad:
            context = {"message": str(bad)}
            return render(request, "pulpanalytics/bad_query.html", context, status=400)

    return page


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A public page: GET or HEAD, kept per version of the summaries and query string
    (page_cache.py), a bad query answered 400 with the bad query page."""
    return require_safe(cached_page(answers_bad_query(view)))


@public_page
def overview(request: HttpRequest) -> HttpResponse:
    selection = pages.select(request.GET)
    blocks = [selection.block(name) for name in pages.OVERVIEW_CHARTS]
    day, numbers = headlines(until=selection.window.end)
    context = {"selection": selection, "blocks": blocks, "day": day, "headlines": numbers}
    return render(request, "pulpanalytics/overview.html", context)


@public_page
def chart_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = pages.find_page(slug)
    if page is None:
        raise Http404(f"no page {slug}")
    selection = pages.select(request.GET)
    blocks = [selection.block(name) for name in page.chart_names()]
    context = {"page": page, "selection": selection, "blocks": blocks}
    return render(request, "pulpanalytics/chart_page.html", context)


@public_page
def plugin_list(request: HttpRequest) -> HttpResponse:
    mode = pages.parse_mode(request.GET)
    selection = pages.select(request.GET, keep={"mode": mode} if mode != "count" else {})
    blocks = pages.plugin_list_blocks(selection, mode=mode)
    context = {
        "selection": selection,
        "blocks": blocks,
        "plugins": pages.plugin_rows(selection, blocks[0].data),
        "public_min_count": settings.PUBLIC_MIN_COUNT,
    }
    return render(request, "pulpanalytics/plugin_list.html", context)


@public_page
def plugin_detail(request: HttpRequest, name: str) -> HttpResponse:
    if not known_component(name):
        raise Http404(f"no plugin {name} in any summary")
    mode = pages.parse_mode(request.GET)
    selection = pages.select(request.GET, keep={"mode": mode} if mode != "count" else {})
    blocks = pages.plugin_blocks(selection, name=name, mode=mode)
    answers = pages.plugin_decisions(name, request.GET, selection.state)
    # `blocks`: every chart charts.js draws; `charts`: those of the registry, drawn first.
    context = {"selection": selection, "blocks": [*blocks, answers.adoption], "charts": blocks}
    context.update(name=name, mode=mode, decisions=answers)
    return render(request, "pulpanalytics/plugin_detail.html", context)


@public_page
def compatibility(request: HttpRequest) -> HttpResponse:
    selection = pages.select(request.GET)
    postgresql, plugins = pages.compatibility_tables(selection)
    context = {"selection": selection, "postgresql": postgresql, "plugins": plugins}
    return render(request, "pulpanalytics/compatibility.html", context)


@public_page
def upgrades(request: HttpRequest) -> HttpResponse:
    selection = pages.select(request.GET)
    blocks = [selection.block("upgrades")]
    paths = pages.upgrade_paths(selection)
    latest = selection.summaries.latest
    persistent = latest["persistent_systems"] if latest else 0
    core = next((p.total for p in paths if p.component == "core"), 0)
    context = {"selection": selection, "blocks": blocks, "paths": paths, "core_changes": core}
    context.update(
        persistent=persistent, core_share=100 * core / persistent if persistent else None
    )
    return render(request, "pulpanalytics/upgrades.html", context)


@public_page
def fleet(request: HttpRequest) -> HttpResponse:
    selection = pages.select(request.GET)
    blocks = [selection.block(name) for name in pages.FLEET_CHARTS]
    found = cohorts.fleet(selection.state)
    context = {
        "selection": selection,
        "blocks": blocks,
        "fleet": found,
        "rows": cohorts.table(found.cohorts, smallest=settings.PUBLIC_MIN_COUNT),
        "gone_after_days": settings.GONE_AFTER_DAYS,
        "public_min_count": settings.PUBLIC_MIN_COUNT,
    }
    return render(request, "pulpanalytics/fleet.html", context)


@public_page
def about(request: HttpRequest) -> HttpResponse:
    context = {
        "raw_retention_days": settings.RAW_RETENTION_DAYS,
        "persistent_min_age_days": settings.PERSISTENT_MIN_AGE_DAYS,
        "public_min_count": settings.PUBLIC_MIN_COUNT,
        "plausible_max_count": settings.PLAUSIBLE_MAX_COUNT,
        "plugin_min_systems": settings.PLUGIN_MIN_SYSTEMS,
        "new_system_rate_limit": settings.NEW_SYSTEM_RATE_LIMIT,
        "rate_limit_window_minutes": settings.RATE_LIMIT_WINDOW_SECONDS // 60,
    }
    return render(request, "pulpanalytics/about.html", context)
