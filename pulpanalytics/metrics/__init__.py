"""The metric registry. Adding a metric: one module here and its line in METRICS.

Order matters only for the order of keys in a Summary's JSON.
"""

from pulpanalytics.metrics.age import Age
from pulpanalytics.metrics.base import Chart, Metric
from pulpanalytics.metrics.compatibility import Compatibility
from pulpanalytics.metrics.components import Components
from pulpanalytics.metrics.content_apps import OnlineContentApps
from pulpanalytics.metrics.deployment_sizes import DeploymentSizes
from pulpanalytics.metrics.fields import Fields
from pulpanalytics.metrics.fleet import FleetDynamics
from pulpanalytics.metrics.postgresql import PostgresqlVersions
from pulpanalytics.metrics.rbac import Rbac
from pulpanalytics.metrics.systems import Systems
from pulpanalytics.metrics.upgrades import Upgrades
from pulpanalytics.metrics.workers import OnlineWorkers

METRICS: list[Metric] = [
    Systems(),
    Age(),
    Components(),
    PostgresqlVersions(),
    OnlineWorkers(),
    OnlineContentApps(),
    Rbac(),
    Compatibility(),
    Upgrades(),
    Fields(),
    FleetDynamics(),
    DeploymentSizes(),
]


def charts() -> dict[str, Chart]:
    """Every chart of every registered metric, by name."""
    return {chart.name: chart for metric in METRICS for chart in metric.charts()}
