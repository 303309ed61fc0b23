"""The decision pages (docs/design.md): the plugin page's releases, support levels and impact form,
the compatibility tables and the upgrades page, on a small fleet worked out by hand.

    system  2026-03-01 (new)       2026-03-02             2026-03-03    PostgreSQL
    1, 2    core 3.44.1, file 1.2  core 3.45.0, file 1.2  as the day before   15
    3       core 3.44.1, file 1.2  core 3.44.1, file 1.2  as the day before   9.6
    4       core 3.44.1, file 1.2  core 3.44.1, file 1.2  as the day before   (none)
"""

import datetime as dt
import re

import pytest

from tests.helpers import system_id

pytestmark = pytest.mark.django_db
D0, D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
POSTGRESQL = {1: 150004, 2: 150004, 3: 90624, 4: None}


@pytest.fixture(autouse=True)
def fleet(report_on, summarize_at) -> None:
    for n in range(1, 5):
        report_on(D0, system_id(n), components={"core": "3.44.1", "file": "1.2.0"})
        core = "3.45.0" if n <= 2 else "3.44.1"
        for day in (D1, D2):
            report_on(
                day,
                system_id(n),
                components={"core": core, "file": "1.2.0"},
                postgresql_version=POSTGRESQL[n],
            )
    summarize_at(dt.datetime(2026, 3, 4, 6, tzinfo=dt.UTC))


def text(response) -> str:
    assert response.status_code == 200
    """The page's words, one space between any two (a tag counts as a space)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_plugin_page_answers_the_impact_form_without_javascript(client):
    page = text(client.get("/plugins/core/", {"minimum": "3.45.0"}))
    assert (
        "On 2026-03-03, a minimum of core 3.45.0 would leave 2 of 4 persistent systems, "
        "50.0% , behind." in page
    )


def test_the_plugin_page_shows_releases_and_support_levels(client):
    page = text(client.get("/plugins/core/"))
    # Both X.Y are on the first day that counts core (2026-03-01 has no persistent system).
    assert "3.45 2026-03-02 or before 0 —" in page
    assert "3.44 2026-03-02 or before 0 0" in page
    assert "50 % 3.45.0 75 % 3.44.1 90 % 3.44.1 95 % 3.44.1" in page
    assert "Adoption of each release" in page
    assert "a minimum of core" not in page


def test_a_minimum_that_is_no_version_is_a_400_page(client):
    response = client.get("/plugins/core/", {"minimum": "newest"})
    assert response.status_code == 400
    assert "minimum must be a version such as 3.45.0" in response.content.decode()


def test_the_compatibility_page_has_a_table_per_plugin_and_postgresql(client):
    page = text(client.get("/compatibility/"))
    assert "PostgreSQL \\ core 3.45 3.44 15 2 9.6 1 unknown 1" in page
    assert "file X.Y \\ core 3.45 3.44 1.2 2 2" in page


def test_the_upgrades_page_counts_version_changes_from_and_to(client):
    page = text(client.get("/upgrades/"))
    assert (
        "In the selected days, 2 core version changes were reported: 50.0 for every 100 of the "
        "4 persistent systems of the latest day" in page
    )
    assert "From To Systems 3.44.1 3.45.0 2" in page


def test_decision_pages_are_in_the_menu(client):
    page = client.get("/").content.decode()
    assert 'href="/compatibility/"' in page and 'href="/upgrades/"' in page
