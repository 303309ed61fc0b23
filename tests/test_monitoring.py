"""/healthz, /readyz and /metrics: what the platform's probes and Prometheus see."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from pytest_django.fixtures import Settings

from pulpanalytics.models import DailySummary, Report
from tests.helpers import GOOD_KEY, Sample, assert_text, parse_metrics, reports_sample, settings_of

TOKEN = "scrape-token-for-tests"
SYSTEM = "44444444-4444-4444-8444-444444444444"
OTHER = "55555555-5555-4555-8555-555555555555"


@pytest.fixture
def scrape(client: Client, settings: Settings) -> Callable[[], dict[Sample, float]]:
    settings.METRICS_TOKEN = TOKEN

    def get() -> dict[Sample, float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return parse_metrics(response.content.decode())

    return get


def gauge(name: str) -> Sample:
    return (name, ())


# No django_db mark: any database access would fail this test.
def test_healthz_answers_ok_without_touching_the_database(client):
    assert_text(client.get("/healthz"), 200, "ok")


def test_healthz_answers_405_to_a_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_answers_ready_when_every_migration_is_applied(client):
    assert_text(client.get("/readyz"), 200, "ready")


@pytest.mark.django_db
def test_readyz_answers_503_when_the_database_is_unreachable(client, database_down):
    assert_text(client.get("/readyz"), 503, "not ready: database unreachable")


@pytest.mark.django_db
def test_readyz_answers_503_while_the_newest_migration_is_not_applied(client):
    # Exactly what `migrate` records; the test's transaction puts the row back afterwards.
    newest = max(MigrationLoader(connection).graph.leaf_nodes("pulpanalytics"))
    MigrationRecorder(connection).record_unapplied(*newest)
    assert_text(client.get("/readyz"), 503, "not ready: 1 migration(s) not applied")


def test_metrics_answer_404_while_no_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    assert_text(client.get("/metrics"), 404, "not found")
    assert_text(client.get("/metrics", HTTP_AUTHORIZATION="Bearer "), 404, "not found")


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"]
)
def test_metrics_answer_401_without_the_right_bearer_token(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)
    assert_text(response, 401, "a valid bearer token is required")
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'


@pytest.mark.django_db
def test_metrics_count_every_outcome_of_post_exactly_once(scrape, post_report, telemetry, settings):
    settings.MAX_REPORT_BYTES = 200
    before = scrape()
    assert post_report(telemetry(SYSTEM)).content == b"stored"
    assert post_report(telemetry(SYSTEM)).content == b"duplicate: already received today"
    ignored = post_report(telemetry(OTHER, components={"core": "3.46.0.dev"}))
    assert ignored.content == b"ignored: development version core 3.46.0.dev"
    assert post_report(b"\xff\xff\xff").status_code == 400
    assert post_report(telemetry("not-a-uuid")).status_code == 400
    assert post_report(telemetry(OTHER), CONTENT_LENGTH="").status_code == 411
    assert post_report(b"\x0a" * 201).status_code == 413
    assert post_report(telemetry(OTHER), HTTP_CONTENT_ENCODING="gzip").status_code == 415
    after = scrape()
    changed = {
        key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key)
    }
    assert changed == {
        reports_sample("stored"): 1,
        reports_sample("duplicate"): 1,
        reports_sample("ignored", "dev"): 1,
        reports_sample("rejected", "undecodable"): 1,
        reports_sample("rejected", "bad_system_id"): 1,
        reports_sample("rejected", "no_length"): 1,
        reports_sample("rejected", "too_large"): 1,
        reports_sample("rejected", "encoding"): 1,
        gauge("pulpanalytics_raw_reports"): 1,
    }


@pytest.mark.django_db
def test_metrics_start_known_outcomes_at_zero_and_show_the_raw_rows_held(
    scrape, post_report, telemetry
):
    post_report(telemetry(SYSTEM))
    post_report(telemetry(OTHER))
    samples = scrape()
    for key in (
        reports_sample("stored"),
        reports_sample("duplicate"),
        reports_sample("ignored", "dev"),
    ):
        assert key in samples
    assert samples[gauge("pulpanalytics_raw_reports")] == 2 == Report.objects.count()
    assert samples[gauge("pulpanalytics_database_up")] == 1


@pytest.mark.django_db
def test_metrics_show_no_summary_day_while_there_is_no_summary(scrape):
    samples = scrape()
    assert not any(name.startswith("pulpanalytics_last_summarized") for name, _ in samples)


@pytest.mark.django_db
def test_metrics_still_show_the_counters_when_the_database_is_down(scrape, database_down):
    samples = scrape()
    assert samples[gauge("pulpanalytics_database_up")] == 0
    assert gauge("pulpanalytics_raw_reports") not in samples
    assert reports_sample("stored") in samples


@pytest.mark.django_db
def test_the_summary_gauge_is_the_start_of_the_newest_summarized_day(scrape):
    computed = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    for day in (dt.date(2026, 3, 2), dt.date(2026, 2, 27)):
        DailySummary.objects.create(date=day, json="{}", computed_at=computed)
    # 2026-03-02T00:00:00Z
    assert scrape()[gauge("pulpanalytics_last_summarized_day_timestamp_seconds")] == 1772409600


def test_the_pod_ip_from_the_downward_api_is_an_allowed_host():
    hosts = {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "analytics.example.org"}

    def allowed_hosts(**env: str) -> list[str]:
        return settings_of("ALLOWED_HOSTS", **env)["ALLOWED_HOSTS"]

    assert allowed_hosts(**hosts, POD_IP="10.128.2.15") == [
        "analytics.example.org",
        "10.128.2.15",
    ]
    assert allowed_hosts(**hosts, POD_IP="fd01:0:0:3::1b") == [
        "analytics.example.org",
        "[fd01:0:0:3::1b]",
    ]
    assert allowed_hosts(**hosts) == ["analytics.example.org"]


def test_a_probe_addressed_to_the_pod_ip_and_port_gets_through(client, settings):
    # The kubelet sends Host: <pod IP>:<port>; Django compares the host without the port.
    settings.ALLOWED_HOSTS = ["analytics.example.org", "10.128.2.15"]
    assert_text(client.get("/healthz", HTTP_HOST="10.128.2.15:8080"), 200, "ok")
    assert client.get("/healthz", HTTP_HOST="10.128.2.16:8080").status_code == 400
