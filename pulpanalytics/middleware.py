"""Cross-cutting answers: 503 when the database is unavailable, 429 for admin login floods; the
public requests that read from the replica."""

import logging
from collections.abc import Callable
from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import get_script_prefix, reverse

from pulpanalytics.limits import LOGIN_FAILURES, client_address, too_many
from pulpanalytics.replica import public_reads

logger = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = "service unavailable, try later"
RETRY_AFTER_SECONDS = 60
# SQLSTATE query_canceled: PostgreSQL's statement_timeout (DB_STATEMENT_TIMEOUT_MS) fired.
QUERY_CANCELED = "57014"


def service_unavailable() -> HttpResponse:
    response = HttpResponse(
        UNAVAILABLE_MESSAGE, status=503, content_type="text/plain; charset=utf-8"
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turn an unreachable or stuck database into 503, as docs/design.md ("Answers") promises."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # OperationalError covers a refused connection, a restart and a statement timeout.
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        if getattr(exception.__cause__, "pgcode", None) == QUERY_CANCELED:
            # Usually a lock held elsewhere (a migration, a long prune): worth its own line.
            logger.error("database statement timed out for %s %s", request.method, request.path)
        else:
            logger.error(
                "database unavailable for %s %s", request.method, request.path, exc_info=exception
            )
        return service_unavailable()


@cache
def admin_login_path() -> str:
    """The admin login's path as request.path_info holds it (without the script prefix); made
    once, as the URLs are fixed for the life of the process and every report is a POST."""
    return "/" + reverse("admin:login").removeprefix(get_script_prefix())


class AdminLoginThrottleMiddleware:
    """Django has no login throttling: refuse an address's admin logins after repeated failures.

    Counts every POST to the admin login that leaves the user anonymous (a wrong password, an
    inactive or non-staff account, a missing CSRF token); ADMIN_LOGIN_FAILURE_LIMIT per
    ADMIN_LOGIN_WINDOW_SECONDS, then 429 until the window ends, even with the right password.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path_info != admin_login_path():
            return self.get_response(request)
        client = client_address(request)
        if wait := LOGIN_FAILURES.wait(client):
            logger.warning("admin login refused: too many failed logins from one address")
            return too_many(wait, "too many failed logins from this address")
        response = self.get_response(request)
        if response.status_code < 500 and not request.user.is_authenticated:
            LOGIN_FAILURES.hit(client)
        return response


@cache
def admin_prefix() -> str:
    return "/" + reverse("admin:index").removeprefix(get_script_prefix())


class ReplicaReadsMiddleware:
    """GET and HEAD outside the admin read from the replica, when there is one (replica.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or request.path_info.startswith(admin_prefix()):
            return self.get_response(request)
        with public_reads():
            return self.get_response(request)


# The attributes by which a view would change its response's policy (django-csp's decorators).
CSP_OVERRIDES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


class FixedPolicyCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with the headers built once per process.

    The site's policy (CONTENT_SECURITY_POLICY) has no nonce and no view changes it, so every
    response carries the same header; django-csp would rebuild it from the settings for each
    response, which costs a report about a tenth of its CPU. A response or request that does
    use a nonce or a per-view policy, or a policy with excluded paths, goes to django-csp as
    before.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in CSP_OVERRIDES
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (404, 500):
            return response  # django-csp leaves Django's debug pages alone
        headers = fixed_policies()
        if headers is None:  # a policy with excluded paths
            return super().process_response(request, response)
        for header, policy in headers:
            if header not in response:
                response[header] = policy
        return response


@cache
def fixed_policies() -> tuple[tuple[str, str], ...] | None:
    """The policy headers for responses with nothing of their own, built from the settings
    once per process (again when a test changes them); None when a policy excludes paths,
    which only django-csp's own per-request path handles."""
    enforced = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}
    if "EXCLUDE_URL_PREFIXES" in enforced or "EXCLUDE_URL_PREFIXES" in report_only:
        return None
    built = ((HEADER, build_policy()), (HEADER_REPORT_ONLY, build_policy(report_only=True)))
    return tuple((header, policy) for header, policy in built if policy)


@receiver(setting_changed)
def _policy_changed(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        fixed_policies.cache_clear()
