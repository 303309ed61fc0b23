"""Thin views of open data (/data/), badges and alerts; the logic is in opendata.py, badges.py
and watchdog.py."""

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from pulpanalytics import badges, chart_data, opendata, watchdog
from pulpanalytics.api import cached_response, error
from pulpanalytics.models import DataFile

# Badges change once a day; README badges are fetched through caching proxies (GitHub's camo).
BADGE_SECONDS = 3600
# Alerts hold a live part (stale_summary): a few minutes.
ALERT_SECONDS = 300


@require_safe
def data_index(request: HttpRequest) -> HttpResponse:
    """GET /data/: the files there are, their sizes and dates."""
    files = [
        {"file": found, "description": opendata.DESCRIPTIONS.get(found.name, "")}
        for found in opendata.listing()
    ]
    context = {"files": files, "licence": opendata.LICENCE, "licence_url": opendata.LICENCE_URL}
    return render(request, "pulpanalytics/data.html", context)


def _not_made(name: str) -> HttpResponse:
    if name in opendata.MAKERS:
        message = f"{name} is not made yet: `manage.py summarize` makes it (nightly)"
    else:
        message = f"no file {name[:60]!r}; GET /data/ lists them"
    return HttpResponse(message, status=404, content_type="text/plain; charset=utf-8")


@require_safe
def data_file(request: HttpRequest, name: str) -> HttpResponse:
    """GET /data/<name>: a file as summarize stored it, with ETag and Last-Modified."""
    # Without its content first: a conditional request or a HEAD needs no megabytes.
    found = DataFile.objects.defer("content").filter(name=name).first()
    if found is None:
        return _not_made(name)
    modified = int(found.made_at.timestamp())
    response = get_conditional_response(request, etag=found.etag, last_modified=modified)
    if response is None and request.method == "HEAD":
        response = HttpResponse(content_type=found.content_type)
        response["Content-Length"] = str(found.size)
    elif response is None:
        # Read again whole: a summarize may have replaced it meanwhile.
        found = DataFile.objects.filter(name=name).first()
        if found is None:
            return _not_made(name)
        response = HttpResponse(bytes(found.content), content_type=found.content_type)
        response["Content-Disposition"] = f'attachment; filename="{found.name}"'
    response["ETag"] = found.etag
    response["Last-Modified"] = http_date(int(found.made_at.timestamp()))
    patch_cache_control(response, public=True, max_age=BADGE_SECONDS)
    return response


def _badge(name: str) -> badges.Badge:
    version = chart_data.summaries_state().version
    badge = chart_data.cached(["badge", name, version], lambda: badges.badge_of(name))
    if badge is None:
        raise Http404(f"no component {name[:60]!r} in any summary")
    return badge


@require_safe
def badge_svg(request: HttpRequest, component: str) -> HttpResponse:
    """GET /badges/<component>.svg"""
    try:
        badge = _badge(component)
    except Http404 as missing:
        return HttpResponse(str(missing), status=404, content_type="text/plain; charset=utf-8")
    response = cached_response(
        request, badge.svg(), last_modified=None, content_type="image/svg+xml; charset=utf-8"
    )
    patch_cache_control(response, max_age=BADGE_SECONDS)
    return response


@require_safe
def badge_json(request: HttpRequest, component: str) -> HttpResponse:
    """GET /api/v1/badges/<component>.json: a shields.io endpoint document."""
    try:
        badge = _badge(component)
    except Http404 as missing:
        return error(404, str(missing))
    response = JsonResponse(badge.endpoint())
    patch_cache_control(response, public=True, max_age=BADGE_SECONDS)
    return response


@require_safe
def alert_list(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/alerts/ -> {"alerts": [...]}, newest first."""
    found = watchdog.alerts(timezone.now())
    response = JsonResponse({"alerts": [alert.as_json() for alert in found]})
    patch_cache_control(response, public=True, max_age=ALERT_SECONDS)
    return response
