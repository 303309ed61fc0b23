"""Turn an unreachable database into 503 for every view, the way DESIGN.md section 1 promises."""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = "service unavailable, try later"
RETRY_AFTER_SECONDS = 60


def service_unavailable() -> HttpResponse:
    response = HttpResponse(
        UNAVAILABLE_MESSAGE, status=503, content_type="text/plain; charset=utf-8"
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # OperationalError covers a refused connection, a restart and a statement timeout.
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.error(
                "database unavailable for %s %s", request.method, request.path, exc_info=exception
            )
            return service_unavailable()
        return None
