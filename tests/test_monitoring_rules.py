"""openshift/monitoring/: Prometheus scrapes the web pods' /metrics with the Secret's token, and
the PrometheusRule fires on what /metrics shows of the watchdog's alerts."""

import re

from django.urls import reverse

from pulpanalytics import watchdog
from tests.helpers import OPENSHIFT, manifests, the


def test_the_service_monitor_scrapes_metrics_of_the_service_with_the_metrics_token():
    monitor = the("ServiceMonitor")["spec"]
    service = the("Service")
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["endpoints"]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == reverse("prometheus-metrics")
    assert endpoint["bearerTokenSecret"] == {
        "name": the("Secret")["metadata"]["name"],
        "key": "METRICS_TOKEN",
    }


def test_the_rule_fires_on_the_stale_summary_and_both_drops_as_metrics_names_them():
    (group,) = the("PrometheusRule")["spec"]["groups"]
    watched = {}
    for rule in group["rules"]:
        (kind,) = re.findall(r'pulpanalytics_alerts\{kind="(\w+)"\}', rule["expr"])
        watched[kind] = rule["alert"]
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
    assert set(watched) == set(watchdog.KINDS)


def test_monitoring_manifests_sit_apart_from_what_oc_apply_applies():
    assert all(
        path.parent.name == "monitoring"
        for path, obj in manifests().items()
        if obj["apiVersion"].startswith("monitoring.coreos.com")
    )
    assert (OPENSHIFT / "monitoring").is_dir()
