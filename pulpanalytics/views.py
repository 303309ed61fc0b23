"""Thin views: the site root (overview page on GET, report ingest on POST) and the pages."""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from pulpanalytics import pages
from pulpanalytics.chart_query import QueryError
from pulpanalytics.headlines import headlines
from pulpanalytics.ingest import ingest
from pulpanalytics.metrics.base import ChartParameterError

logger = logging.getLogger(__name__)


def _plain(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


# The only CSRF-exempt view: pulpcore posts without cookies or tokens.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def root(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return receive_report(request)
    return overview(request)


def receive_report(request: HttpRequest) -> HttpResponse:
    """POST /: one protobuf Telemetry report. Content-Type is ignored (pulpcore sends none)."""
    limit = settings.MAX_REPORT_BYTES
    if request.headers.get("Content-Encoding", "identity").strip().lower() not in {"", "identity"}:
        return _reject(415, "Content-Encoding is not supported; send the plain body", "encoding")
    declared = request.META.get("CONTENT_LENGTH", "")
    if not declared:
        return _reject(411, "Content-Length required", "no_length")
    if not declared.isdigit():
        return _reject(400, "Content-Length is not a number", "bad_length")
    # Refuse before reading the body when the client already says it is too big.
    if int(declared) > limit:
        return _reject(413, f"report larger than {limit} bytes", "too_large")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _reject(413, f"report larger than {limit} bytes", "too_large")
    outcome = ingest(body=body, received_at=timezone.now())
    if outcome.kind != "stored":
        logger.info("report %s: %s", outcome.kind, outcome.reason or outcome.message)
    return _plain(outcome.message, outcome.status)


def _reject(status: int, message: str, reason: str) -> HttpResponse:
    logger.info("report rejected: %s", reason)
    return _plain(message, status)


def _bad_query(request: HttpRequest, bad: Exception) -> HttpResponse:
    return render(request, "pulpanalytics/bad_query.html", {"message": str(bad)}, status=400)


def overview(request: HttpRequest) -> HttpResponse:
    try:
        selection = pages.select(request.GET)
        blocks = [selection.block(name) for name in pages.OVERVIEW_CHARTS]
    except QueryError as bad:
        return _bad_query(request, bad)
    day, numbers = headlines(until=selection.window.end)
    context = {"selection": selection, "blocks": blocks, "day": day, "headlines": numbers}
    return render(request, "pulpanalytics/overview.html", context)


@require_safe
def chart_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = pages.find_page(slug)
    if page is None:
        raise Http404(f"no page {slug}")
    try:
        selection = pages.select(request.GET)
        blocks = [selection.block(name) for name in page.chart_names()]
    except QueryError as bad:
        return _bad_query(request, bad)
    context = {"page": page, "selection": selection, "blocks": blocks}
    return render(request, "pulpanalytics/chart_page.html", context)


@require_safe
def plugin_list(request: HttpRequest) -> HttpResponse:
    try:
        selection = pages.select(request.GET)
        adoption = selection.block("plugins")
    except QueryError as bad:
        return _bad_query(request, bad)
    plugins = pages.plugin_rows(selection, adoption.data)
    context = {"selection": selection, "blocks": [adoption], "plugins": plugins}
    return render(request, "pulpanalytics/plugin_list.html", context)


@require_safe
def plugin_detail(request: HttpRequest, name: str) -> HttpResponse:
    if not pages.known_component(name):
        raise Http404(f"no plugin {name} in any summary")
    try:
        mode = pages.parse_mode(request.GET)
        selection = pages.select(request.GET, keep={"mode": mode} if mode != "count" else {})
        blocks = pages.plugin_blocks(selection, name=name, mode=mode)
    except (QueryError, ChartParameterError) as bad:
        return _bad_query(request, bad)
    context = {"selection": selection, "blocks": blocks, "name": name, "mode": mode}
    return render(request, "pulpanalytics/plugin_detail.html", context)


@require_safe
def about(request: HttpRequest) -> HttpResponse:
    context = {
        "raw_retention_days": settings.RAW_RETENTION_DAYS,
        "persistent_min_age_days": settings.PERSISTENT_MIN_AGE_DAYS,
    }
    return render(request, "pulpanalytics/about.html", context)
