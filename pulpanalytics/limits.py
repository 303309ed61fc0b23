"""Per-client limits on reports, new systems and failed admin logins, in the shared cache.

A client is its address (see `client_address`). The address itself is never stored or logged:
a counter's cache key holds a keyed hash of the address and the window, and the entry expires
with the window. Fixed windows: at most `limit` hits per client per window.
"""

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

# The database cache deletes expired rows only when it overflows; we delete them this often so a
# hashed address outlives its window by at most about this long.
PURGE_INTERVAL_SECONDS = 60
_next_purge = 0.0


def client_address(request: HttpRequest) -> str:
    """The address a limit counts against: the TCP peer, or what the trusted proxy saw.

    Every proxy appends the peer it saw to X-Forwarded-For. Only the last TRUSTED_PROXY_COUNT
    entries were written by proxies we run; anything left of them is whatever the client sent,
    so it is never read (reading the left-most entry would let any client pick its own bucket).
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            address = forwarded[-proxies]
    return address


def client_bucket(address: str) -> str:
    """The unit a limit counts: an IPv4 address, or the /64 an IPv6 address belongs to.

    One IPv6 host usually holds a whole /64, so counting single IPv6 addresses would let it
    spray around any limit.
    """
    text = address.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]  # IPv4 with a port
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return "unparsable:" + text[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(frozen=True)
class Limit:
    """At most getattr(settings, limit_setting) hits per client per window; 0 turns it off."""

    scope: str
    limit_setting: str
    window_setting: str

    @property
    def limit(self) -> int:
        return getattr(settings, self.limit_setting)

    @property
    def window(self) -> int:
        return getattr(settings, self.window_setting)

    def wait(self, address: str) -> int:
        """Seconds until the window ends if the client has used up its limit, else 0."""
        if not self.limit:
            return 0
        key, seconds_left = self._key(address)
        try:
            used = _store().get(key, 0)
        except Exception:
            # An unreachable store must not take ingest down with it: count nothing, let through.
            logger.warning("limit %s: cache unavailable, not limiting", self.scope, exc_info=True)
            return 0
        return seconds_left if used >= self.limit else 0

    def hit(self, address: str) -> int:
        """Count one hit; seconds until the window ends if it was over the limit, else 0."""
        if not self.limit:
            return 0
        key, seconds_left = self._key(address)
        try:
            used = _increment(key, seconds_left)
        except Exception:
            logger.warning("limit %s: cache unavailable, not limiting", self.scope, exc_info=True)
            return 0
        _purge_expired()
        return seconds_left if used > self.limit else 0

    def of(self, address: str) -> "ClientLimit":
        return ClientLimit(self, address)

    def _key(self, address: str) -> tuple[str, int]:
        now = time.time()
        start = int(now // self.window) * self.window
        # The window is part of the hashed value, so entries of two windows cannot be linked.
        digest = salted_hmac(
            "pulpanalytics.limits",
            f"{self.scope}:{start}:{client_bucket(address)}",
            algorithm="sha256",
        ).hexdigest()[:32]
        return f"limit:{self.scope}:{start}:{digest}", max(math.ceil(start + self.window - now), 1)


@dataclass(frozen=True)
class ClientLimit:
    """One client's counter of a limit, for code that must not know the client's address."""

    limit: Limit
    address: str

    def wait(self) -> int:
        return self.limit.wait(self.address)

    def hit(self) -> int:
        return self.limit.hit(self.address)


def _store() -> BaseCache:
    return caches["default"]


def _increment(key: str, seconds_left: int) -> int:
    cache = _store()
    if isinstance(cache, RedisCache):
        if cache.add(key, 1, timeout=seconds_left):
            return 1
        # INCR is atomic in Redis and keeps the key's expiry.
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=seconds_left)
            return 1
    if isinstance(cache, DatabaseCache):
        connection = connections[router.db_for_write(cache.cache_model_class)]
        if connection.vendor == "postgresql":
            # add, get and set are three statements: two workers counting one client at once
            # would both read n and both write n + 1. A lock per counter makes them take turns;
            # it is held until the transaction ends (the caller's, when ingest admits a new
            # system, so that the count and the stored row commit or roll back together).
            with transaction.atomic(using=connection.alias):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(key)])
                return _add_or_bump(cache, key, seconds_left)
    # SQLite has one writer at a time; LocMem is per process anyway (never in production).
    return _add_or_bump(cache, key, seconds_left)


def _add_or_bump(cache: BaseCache, key: str, seconds_left: int) -> int:
    # Not cache.incr(): for these stores it is get+set too, and it resets the expiry.
    if cache.add(key, 1, timeout=seconds_left):
        return 1
    used = cache.get(key, 0) + 1
    cache.set(key, used, timeout=seconds_left)
    return used


def _lock_id(key: str) -> int:
    """A PostgreSQL advisory lock number (a signed 64-bit integer) for one counter."""
    digest = hashlib.blake2b(f"pulpanalytics.limits:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _purge_expired() -> None:
    global _next_purge
    now = time.time()
    cache = _store()
    if not isinstance(cache, DatabaseCache) or now < _next_purge:
        return
    _next_purge = now + PURGE_INTERVAL_SECONDS
    connection = connections[router.db_for_write(cache.cache_model_class)]
    table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
    expired_before = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
    try:
        # Its own savepoint inside a caller's transaction: a failed purge must not abort it.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [expired_before])  # noqa: S608
    except Exception:
        # The counter was kept; the next purge, a minute on, deletes what this one missed.
        logger.warning("limits: could not purge expired counters", exc_info=True)


REPORTS = Limit("reports", "REPORT_RATE_LIMIT", "RATE_LIMIT_WINDOW_SECONDS")
NEW_SYSTEMS = Limit("new_systems", "NEW_SYSTEM_RATE_LIMIT", "RATE_LIMIT_WINDOW_SECONDS")
LOGIN_FAILURES = Limit("login_failures", "ADMIN_LOGIN_FAILURE_LIMIT", "ADMIN_LOGIN_WINDOW_SECONDS")


def too_many(seconds: int, what: str) -> HttpResponse:
    """429 with Retry-After and a one-line reason, the way clients and proxies understand it."""
    response = HttpResponse(
        f"{what}; retry after {seconds} seconds",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response
