"""What the platform watches: /healthz (liveness), /readyz (readiness), /metrics (Prometheus)."""

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from pulpanalytics import prometheus

logger = logging.getLogger(__name__)


def _plain(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers. No database access: an outage must not make the kubelet restart us."""
    return _plain("ok", 200)


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready for traffic: the database answers and every migration of this code is applied."""
    problem = readiness_problem()
    if problem is not None:
        return _plain(f"not ready: {problem}", 503)
    return _plain("ready", 200)


def readiness_problem() -> str | None:
    """Why this process should get no traffic, or None.

    A new image whose migrate Job has not run yet stays unready, so the old pods keep serving;
    old code next to newer applied migrations has nothing to apply and stays ready.
    """
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except (DatabaseError, InterfaceError) as error:
        # Every probe during an outage: one line each, no traceback.
        logger.warning("readiness: database unreachable: %s", str(error).strip())
        return "database unreachable"
    if pending:
        return f"{len(pending)} migration(s) not applied"
    return None


@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, only with `Authorization: Bearer <METRICS_TOKEN>`.

    Without METRICS_TOKEN the endpoint does not exist (404): nothing is exposed by default.
    """
    token = settings.METRICS_TOKEN
    if not token:
        return _plain("not found", 404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    valid = hmac.compare_digest(given.strip().encode(), token.encode())
    if scheme.lower() != "bearer" or not valid:
        response = _plain("a valid bearer token is required", 401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(prometheus.exposition(), content_type=prometheus.CONTENT_TYPE)
