"""The metric registry. Adding a metric: one module here and its line in METRICS.

Order matters only for the order of keys in a Summary's JSON.
"""

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from pulpanalytics.metrics.age import Age
from pulpanalytics.metrics.base import Chart, Metric
from pulpanalytics.metrics.components import Components
from pulpanalytics.metrics.content_apps import OnlineContentApps
from pulpanalytics.metrics.postgresql import PostgresqlVersions
from pulpanalytics.metrics.rbac import Rbac
from pulpanalytics.metrics.systems import Systems
from pulpanalytics.metrics.workers import OnlineWorkers

METRICS: list[Metric] = [
    Systems(),
    Age(),
    Components(),
    PostgresqlVersions(),
    OnlineWorkers(),
    OnlineContentApps(),
    Rbac(),
]


def charts() -> Mapping[str, Chart]:
    """Every chart of every registered metric, by name; made once per registry (a running site
    has one; tests register metrics of their own)."""
    return _charts(tuple(METRICS))


@lru_cache(maxsize=4)
def _charts(registry: tuple[Metric, ...]) -> Mapping[str, Chart]:
    return MappingProxyType({chart.name: chart for metric in registry for chart in metric.charts()})
