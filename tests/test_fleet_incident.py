"""simulate_fleet --incident: the demo fleet can show the watchdog's alerts."""

import datetime as dt

import pytest
from django.core.management import CommandError

from pulpanalytics.models import Alert
from tests.helpers import FLEET_END as END
from tests.helpers import simulate

pytestmark = pytest.mark.django_db

INCIDENT_START = END - dt.timedelta(days=2)


def test_version_stops_makes_a_core_release_stop_reporting_and_the_watchdog_names_it(settings):
    settings.RAW_RETENTION_DAYS = 60
    lines = simulate(
        "--days", "14", "--systems", "500", "--end", str(END), "--incident", "version-stops"
    )
    simulated = next(line for line in lines if line.startswith("Simulated"))
    assert f"silent from {INCIDENT_START}" in simulated
    xy = simulated.split("incident version-stops: core ")[1].split(" ")[0]
    found = list(Alert.objects.filter(kind="version_drop").values_list("date", "message"))
    assert found, simulated
    assert {day for day, _ in found} <= {INCIDENT_START + dt.timedelta(days=n) for n in range(3)}
    assert all(message.startswith(f"core {xy}: 0 persistent systems") for _, message in found)
    assert not Alert.objects.filter(kind="reports_drop").exists()


def test_reports_drop_silences_most_of_the_fleet_and_the_watchdog_sees_it(settings):
    settings.RAW_RETENTION_DAYS = 60
    simulate("--days", "12", "--systems", "60", "--end", str(END), "--incident", "reports-drop")
    days = set(Alert.objects.filter(kind="reports_drop").values_list("date", flat=True))
    assert days == {INCIDENT_START + dt.timedelta(days=n) for n in range(3)}


def test_an_incident_needs_a_history_longer_than_its_baseline():
    with pytest.raises(CommandError, match="more than 10 days"):
        simulate("--days", "10", "--systems", "40", "--end", str(END), "--incident", "reports-drop")
