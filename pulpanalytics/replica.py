"""An optional read replica (DATABASE_REPLICA_URL): public pages and the API read there.

Everything else stays on the primary: every write, and every read of ingest, summarize, the
admin, the limits and the probes. A request is public when ReplicaReadsMiddleware says so (a
GET or HEAD outside the admin); the router sends the ORM's reads of such a request, and the
summaries' state (chart_data.py), to the replica when there is one. A replica lags the primary:
for that long after `summarize` commits, pages show the day before, then the new version of the
summaries changes every cache key (page_cache.py) and the new pages are made.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
_public = ContextVar("pulpanalytics_public_reads", default=False)


@contextmanager
def public_reads() -> Iterator[None]:
    """Within this block the ORM reads from the replica, if one is configured."""
    token = _public.set(True)
    try:
        yield
    finally:
        _public.reset(token)


class ReplicaRouter:
    """settings.DATABASE_ROUTERS: reads of public requests to the replica, all else to default."""

    def db_for_read(self, model: type, **hints: object) -> str:
        return REPLICA if _public.get() and REPLICA in settings.DATABASES else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: object) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, first: object, second: object, **hints: object) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool:
        # A replica is a copy of the primary: migrate runs on the primary only.
        return db != REPLICA
