"""System checks: conditions under which this site must not start serving."""

from django.conf import settings
from django.core import checks
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from google.protobuf.internal import api_implementation


def protobuf_backend_is_upb(**kwargs: object) -> list[checks.CheckMessage]:
    """The pure-Python protobuf backend is two orders slower and parses hostile input slowly."""
    backend = api_implementation.Type()
    if backend == "upb":
        return []
    return [
        checks.Error(
            f"protobuf runs on its {backend!r} backend; this site needs 'upb'",
            hint="Install the protobuf wheel for this platform and unset "
            "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION.",
            id="pulpanalytics.E001",
        )
    ]


def limits_share_one_store(**kwargs: object) -> list[checks.CheckMessage]:
    """A per-process cache multiplies every limit by the number of gunicorn workers."""
    limits_on = any(
        getattr(settings, name)
        for name in ("REPORT_RATE_LIMIT", "NEW_SYSTEM_RATE_LIMIT", "ADMIN_LOGIN_FAILURE_LIMIT")
    )
    if limits_on and isinstance(caches["default"], LocMemCache | DummyCache):
        return [
            checks.Warning(
                "the default cache is not shared between processes, so the rate limits are not",
                hint="Leave CACHE_BACKEND unset (the database counts) or set REDIS_URL.",
                id="pulpanalytics.W001",
            )
        ]
    return []
