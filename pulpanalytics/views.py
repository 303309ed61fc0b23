"""Thin views: the site root (overview page on GET, report ingest on POST)."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from pulpanalytics.ingest import ingest
from pulpanalytics.prometheus import count_report

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
    count_report(outcome=outcome.kind, reason=outcome.reason)
    if outcome.kind != "stored":
        logger.info(
            "report %s: %s",
            outcome.kind,
            outcome.reason or outcome.message,
            extra={"outcome": outcome.kind, "reason": outcome.reason},
        )
    return _plain(outcome.message, outcome.status)


def _reject(status: int, message: str, reason: str) -> HttpResponse:
    count_report(outcome="rejected", reason=reason)
    logger.info("report rejected: %s", reason, extra={"outcome": "rejected", "reason": reason})
    return _plain(message, status)


def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "pulpanalytics/overview.html")
