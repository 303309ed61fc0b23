"""Badges: GET /badges/<component>.svg and GET /api/v1/badges/<component>.json, "N installations"
on the latest day, small counts as "fewer than K" (README "Open data, badges and the watchdog")."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from pulpanalytics.badges import Badge
from tests.helpers import system_id

pytestmark = pytest.mark.django_db

DAY1 = dt.date(2026, 3, 1)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def fleet(report_on, summarize_at, settings):
    """Three days: systems 0-4 run core and file every day; 5 and 6 run rpm too on the first two
    days, only 5 reports on the third (with rpm, or without with rpm_last=False). So the latest
    day has 6 persistent core systems and rpm on 1 (or 0)."""

    def make(*, plugin_min_systems: int = 1, rpm_last: bool = True) -> None:
        settings.PLUGIN_MIN_SYSTEMS = plugin_min_systems
        with_rpm = {"core": "3.45.2", "file": "1.2.3", "rpm": "3.26.1"}
        for offset in range(3):
            day = DAY1 + dt.timedelta(days=offset)
            for number in range(5):
                report_on(day, system_id(number))
            if offset < 2:
                report_on(day, system_id(5), components=with_rpm)
                report_on(day, system_id(6), components=with_rpm)
            else:
                report_on(day, system_id(5), components=with_rpm if rpm_last else None)
        summarize_at(dt.datetime(2026, 3, 4, 1, tzinfo=dt.UTC))

    return make


def endpoint(client, name: str) -> dict:
    response = client.get(f"/api/v1/badges/{name}.json")
    assert response.status_code == 200
    assert "max-age=3600" in response["Cache-Control"]
    return response.json()


def svg_texts(client, name: str) -> list[str]:
    response = client.get(f"/badges/{name}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert "max-age=3600" in response["Cache-Control"]
    root = ET.fromstring(response.content)  # noqa: S314 (our own answer)
    return [text.text for text in root.iter(f"{SVG}text")]


def test_a_badge_counts_the_persistent_installations_of_the_latest_day(client, fleet):
    fleet()
    assert endpoint(client, "core") == {
        "schemaVersion": 1,
        "label": "core",
        "message": "6 installations",
        "color": "blue",
    }
    assert svg_texts(client, "core") == ["core", "6 installations"]
    assert endpoint(client, "rpm")["message"] == "1 installation"


def test_a_component_in_an_earlier_summary_only_has_0_installations(client, fleet):
    fleet(rpm_last=False)
    badge = endpoint(client, "rpm")
    assert (badge["message"], badge["color"]) == ("0 installations", "lightgrey")
    assert svg_texts(client, "rpm") == ["rpm", "0 installations"]


def test_a_component_in_no_summary_or_no_plugin_label_has_no_badge(client, fleet):
    fleet()
    for name in ("deb", "other", "Core", "core.1", "%3Cscript%3E"):
        assert client.get(f"/badges/{name}.svg").status_code == 404, name
        missing = client.get(f"/api/v1/badges/{name}.json")
        assert missing.status_code == 404, name
        assert "error" in missing.json()


def test_below_the_public_minimum_a_badge_says_fewer_than_k(client, fleet, settings):
    fleet()
    settings.PUBLIC_MIN_COUNT = 7
    badge = endpoint(client, "core")
    assert (badge["message"], badge["color"]) == ("fewer than 7 installations", "lightgrey")
    # rpm never had 7 systems: folded on every day, no public summary names it.
    assert client.get("/badges/rpm.svg").status_code == 404
    settings.PUBLIC_MIN_COUNT = 6
    assert endpoint(client, "core")["message"] == "6 installations"


def test_a_component_counted_in_the_latest_days_other_entry_is_fewer_than_the_minimum(
    client, fleet
):
    # rpm: 2 systems on the first two days, 1 on the latest, where it is counted as "other".
    fleet(plugin_min_systems=2)
    badge = endpoint(client, "rpm")
    assert (badge["message"], badge["color"]) == ("fewer than 2 installations", "lightgrey")
    assert client.get("/badges/other.svg").status_code == 404


def test_a_badge_answers_304_to_its_etag(client, fleet):
    fleet()
    first = client.get("/badges/core.svg")
    assert client.get("/badges/core.svg", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_the_svg_escapes_its_text_and_stays_well_formed():
    svg = Badge('a<b>&"c', "1 <installation>", "blue").svg()
    assert "<b>" not in svg and "<installation>" not in svg
    root = ET.fromstring(svg)  # noqa: S314 (made here)
    assert [t.text for t in root.iter(f"{SVG}text")] == ['a<b>&"c', "1 <installation>"]
    assert root.find(f"{SVG}title").text == 'a<b>&"c: 1 <installation>'


def test_a_plugin_page_shows_its_badge_and_the_markdown_to_copy(client, fleet):
    fleet()
    page = client.get("/plugins/rpm/").content.decode()
    assert '<img src="/badges/rpm.svg"' in page
    assert (
        "[![rpm installations](http://testserver/badges/rpm.svg)](http://testserver/plugins/rpm/)"
        in page
    )
    assert (
        "https://img.shields.io/endpoint?url=http%3A%2F%2Ftestserver%2Fapi%2Fv1%2Fbadges%2Frpm.json"
        in page
    )
