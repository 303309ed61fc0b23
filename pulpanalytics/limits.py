"""Per-client limits on reports, new systems, page renders and failed admin logins.

A client is its address (see `client_address`). The address itself is never stored or logged:
a counter's key holds a keyed hash of the address and the window, and the counter is purged
after the window. Fixed windows: at most `limit` hits per client per window.

The counters live in the database, in a table of their own (`LimitCounter`): a hit is one
INSERT ... ON CONFLICT DO UPDATE ... RETURNING, which PostgreSQL runs atomically per row, so
concurrent workers counting one client are all counted without a lock of ours; inside the
report's transaction the row stays locked until it commits, so a refused new system rolls its
own count back. On PostgreSQL a report to store is counted by the same statements in the call
that stores it (ingest.py, migration 0011), from the keys of `ClientLimit.database_counter`.
With REDIS_URL they live in Redis (INCR); a per-process cache (only for the G2 experiment)
counts in each process.
"""

import functools
import hashlib
import hmac
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router
from django.http import HttpRequest, HttpResponse

from pulpanalytics.models import LimitCounter

logger = logging.getLogger(__name__)

# Expired counters are deleted this often (per process), so a hashed address outlives its window
# by at most about this long.
PURGE_INTERVAL_SECONDS = 60
_next_purge = 0.0

# One round trip counts a hit and reads another counter of the same client (`peek`): the report
# limit and, for ingest, how many new systems the client has added.
_COUNTERS = LimitCounter._meta.db_table
HIT_SQL = (
    f'INSERT INTO "{_COUNTERS}" (key, count, expires) VALUES (%s, 1, %s) '  # noqa: S608
    f'ON CONFLICT (key) DO UPDATE SET count = "{_COUNTERS}".count + 1 '
    f'RETURNING count, (SELECT peeked.count FROM "{_COUNTERS}" peeked WHERE peeked.key = %s)'
)
READ_SQL = f'SELECT count FROM "{_COUNTERS}" WHERE key = %s'  # noqa: S608
PURGE_SQL = f'DELETE FROM "{_COUNTERS}" WHERE expires < %s'  # noqa: S608


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


@functools.lru_cache(maxsize=1)
def _hmac_key(secret: str) -> bytes:
    """The key of the counters' HMAC, derived from SECRET_KEY as Django's salted_hmac derives
    it (the same digests), once per process instead of once per key."""
    return hashlib.sha256(b"pulpanalytics.limits" + secret.encode()).digest()


# Each request asks for its client's bucket once per limit it counts.
@functools.lru_cache(maxsize=4096)
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
        cache = _cache()
        if cache is None:
            with connections[_database()].cursor() as cursor:
                cursor.execute(READ_SQL, [key])
                row = cursor.fetchone()
            used = row[0] if row else 0
        else:
            try:
                used = cache.get(key, 0)
            except Exception:
                # An unreachable store must not take ingest down with it: count nothing.
                logger.warning(
                    "limit %s: cache unavailable, not limiting", self.scope, exc_info=True
                )
                return 0
        return seconds_left if used >= self.limit else 0

    def hit(self, address: str) -> int:
        """Count one hit; seconds until the window ends if it was over the limit, else 0."""
        return self.hit_and_peek(address).wait

    def hit_and_peek(self, address: str, peek: "Limit | None" = None) -> "Counted":
        """Count one hit and, in the same round trip, read the client's counter of `peek`."""
        if not self.limit:
            return Counted(0, peek.of(address) if peek else None)
        key, seconds_left = self._key(address)
        peek_key = peek._key(address)[0] if peek and peek.limit else None
        cache = _cache()
        if cache is None:
            connection = connections[_database()]
            expires = _moment(connection.alias, time.time() + seconds_left)
            with connection.cursor() as cursor:
                cursor.execute(HIT_SQL, [key, expires, peek_key])
                used, peeked = cursor.fetchone()
            if not connection.in_atomic_block:
                purge_expired_counters()
        else:
            try:
                used = _increment(cache, key, seconds_left)
            except Exception:
                logger.warning(
                    "limit %s: cache unavailable, not limiting", self.scope, exc_info=True
                )
                return Counted(0, peek.of(address) if peek else None)
            peeked = None
        wait = seconds_left if used > self.limit else 0
        if peek is None:
            return Counted(wait, None)
        # A counter read in that round trip needs no second one; Redis reads it when asked.
        known = (peeked or 0) if cache is None and peek_key else None
        return Counted(wait, ClientLimit(peek, address, known))

    def of(self, address: str) -> "ClientLimit":
        return ClientLimit(self, address)

    def _key(self, address: str) -> tuple[str, int]:
        now = time.time()
        start = int(now // self.window) * self.window
        # The window is part of the hashed value, so entries of two windows cannot be linked.
        value = f"{self.scope}:{start}:{client_bucket(address)}".encode()
        digest = hmac.digest(_hmac_key(settings.SECRET_KEY), value, "sha256").hex()[:32]
        return f"limit:{self.scope}:{start}:{digest}", max(math.ceil(start + self.window - now), 1)


@dataclass(frozen=True)
class ClientLimit:
    """One client's counter of a limit, for code that must not know the client's address."""

    limit: Limit
    address: str
    # The count as read just now in the round trip that counted another limit, if it was.
    used: int | None = None

    def wait(self) -> int:
        if self.used is None:
            return self.limit.wait(self.address)
        if not self.limit.limit or self.used < self.limit.limit:
            return 0
        return self.limit._key(self.address)[1]

    def hit(self) -> int:
        return self.limit.hit(self.address)

    def database_counter(self) -> "DatabaseCounter | None":
        """The counter row a statement of the report's own transaction counts this client in
        (ingest.py), or None when the limit is off. Only for counters in the database's table:
        see `counts_in_database`."""
        if not self.limit.limit:
            return None
        key, seconds_left = self.limit._key(self.address)
        alias = _database()
        return DatabaseCounter(
            key, _moment(alias, time.time() + seconds_left), self.limit.limit, seconds_left
        )


@dataclass(frozen=True)
class DatabaseCounter:
    """One client's row of one limit in the counter table, for counting in SQL of one's own."""

    key: str
    expires: object  # the end of the window, as the database takes it
    limit: int
    seconds_left: int


def counts_in_database() -> bool:
    """True when the limits count in the database's counter table (the default, without
    REDIS_URL), so that ingest can count a new system in the statement that stores it."""
    return _cache() is None


@dataclass(frozen=True)
class Counted:
    """A hit counted: seconds to wait (0: admitted), and the counter read with it, if asked."""

    wait: int
    peeked: ClientLimit | None


def _cache() -> BaseCache | None:
    """The cache that holds the counters, or None: the database's own counter table. The
    database cache (the default without REDIS_URL) is not used for counting: its add, get and
    set take a lock and several round trips per hit."""
    cache = caches["default"]
    return None if isinstance(cache, DatabaseCache) else cache


def _database() -> str:
    return router.db_for_write(LimitCounter)


def _increment(cache: BaseCache, key: str, seconds_left: int) -> int:
    if cache.add(key, 1, timeout=seconds_left):
        return 1
    if isinstance(cache, RedisCache):
        # INCR is atomic in Redis and keeps the key's expiry.
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=seconds_left)
            return 1
    # A per-process cache (the G2 experiment, never in production): get and set.
    used = cache.get(key, 0) + 1
    cache.set(key, used, timeout=seconds_left)
    return used


def _moment(alias: str, seconds: float) -> object:
    """A Unix time, whole seconds, as the database's datetime column takes it in plain SQL."""
    moment = datetime.fromtimestamp(int(seconds), UTC)
    return connections[alias].ops.adapt_datetimefield_value(moment)


def purge_expired_counters() -> None:
    """Delete the counters of ended windows from the counter table, at most once a
    PURGE_INTERVAL_SECONDS per process; called outside any transaction, so no report waits for
    it."""
    global _next_purge
    now = time.time()
    if now < _next_purge:
        return
    _next_purge = now + PURGE_INTERVAL_SECONDS
    alias = _database()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(PURGE_SQL, [_moment(alias, now)])
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
