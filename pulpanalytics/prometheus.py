"""Prometheus metrics: report outcome counters and a few gauges read from the database at scrape.

Under gunicorn every worker is its own process, so the counters use prometheus_client's
multiprocess mode: gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a directory before the
workers start, each worker adds to its own memory-mapped file, and a scrape sums all files. Counting
is a memory write: the ingest path gains no database write. Without that variable (tests,
`manage.py` commands) the counters live in the process.
"""

import logging
import os
from datetime import UTC, datetime, time

from django.db import DatabaseError, InterfaceError
from django.db.models import Max
from django.utils import timezone
from prometheus_client import (
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from pulpanalytics import watchdog
from pulpanalytics.models import DailySummary, Report

logger = logging.getLogger(__name__)

# The classic text format: every Prometheus version reads it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# The multiprocess collector has no *_created samples; without them here too, a scrape looks the
# same in both modes.
disable_created_metrics()
# Our own registry, so a scrape shows the same families with and without multiprocess mode
# (the default registry would add per-process Python and GC metrics in one mode only).
_COUNTERS = CollectorRegistry()
REPORTS = Counter(
    "pulpanalytics_reports",
    "Reports received on POST /, by outcome (stored, duplicate, ignored, rejected) and reason.",
    ["outcome", "reason"],
    registry=_COUNTERS,
)
# Known outcomes start at 0 so that rate() and increase() see their first event.
for _outcome, _reason in (("stored", ""), ("duplicate", ""), ("ignored", "dev")):
    REPORTS.labels(outcome=_outcome, reason=_reason)


IMPLAUSIBLE = Counter(
    "pulpanalytics_implausible_values",
    "Values of stored reports left out of the statistics (a count above PLAUSIBLE_MAX_COUNT, a "
    "postgresql_version that is no server_version_num), by field.",
    ["field"],
    registry=_COUNTERS,
)


def count_report(*, outcome: str, reason: str, implausible: tuple[str, ...] = ()) -> None:
    REPORTS.labels(outcome=outcome, reason=reason).inc()
    for field in implausible:
        IMPLAUSIBLE.labels(field=field).inc()


def exposition() -> bytes:
    """The whole /metrics body: counters of every worker, then the database gauges."""
    multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if multiprocess_dir:
        counters = CollectorRegistry()
        MultiProcessCollector(counters, path=multiprocess_dir)
    else:
        counters = _COUNTERS
    gauges = CollectorRegistry()
    gauges.register(DatabaseGauges())
    return generate_latest(counters) + generate_latest(gauges)


class DatabaseGauges:
    """Collected at scrape time with cheap queries; a database outage shows as up 0."""

    def collect(self) -> list[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "pulpanalytics_database_up", "1 when the last scrape could query the database."
        )
        try:
            raw_reports = Report.objects.count()
            last_day = DailySummary.objects.aggregate(newest=Max("date"))["newest"]
            alerts = watchdog.active_counts(timezone.now())
        except (DatabaseError, InterfaceError) as error:
            logger.warning("metrics: database query failed: %s", str(error).strip())
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        families = [
            up,
            GaugeMetricFamily(
                "pulpanalytics_raw_reports",
                "Raw report rows held (one per system per UTC day, kept RAW_RETENTION_DAYS).",
                value=raw_reports,
            ),
        ]
        active = GaugeMetricFamily(
            "pulpanalytics_alerts",
            "Alerts that hold now, by kind: drops found in the newest summarized day "
            "(reports_drop, version_drop), 1 while the summaries are stale (stale_summary).",
            labels=["kind"],
        )
        for kind, count in alerts.items():
            active.add_metric([kind], count)
        families.append(active)
        if last_day is not None:
            families.append(
                GaugeMetricFamily(
                    "pulpanalytics_last_summarized_day_timestamp_seconds",
                    "Start (00:00 UTC) of the newest summarized day, as Unix time.",
                    value=datetime.combine(last_day, time(), UTC).timestamp(),
                )
            )
        return families
