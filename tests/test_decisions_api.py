"""The decision APIs (docs/design.md) on five hand-made days, every answer worked out by hand.

day         core persistent systems by version              PostgreSQL
2026-03-01  3.44.1 x6, 3.45.0 x2                             -
2026-03-02  3.44.1 x4, 3.45.0 x4                             -
2026-03-03  (no core reported)                               -
2026-03-04  3.44.1 x1, 3.45.2 x4, 3.46.0 x3                  -
2026-03-05  3.45.2 x4, 3.46.0 x4                             16 x2, 15 x3, 9.6 x1, unknown x2
"""

import datetime as dt
import json

import pytest
from django.utils import timezone

from pulpanalytics import points
from pulpanalytics.metrics.components import counted
from pulpanalytics.metrics.series import xy
from pulpanalytics.models import DailySummary

pytestmark = pytest.mark.django_db

DAYS = {
    "2026-03-01": {"3.44.1": 6, "3.45.0": 2},
    "2026-03-02": {"3.44.1": 4, "3.45.0": 4},
    "2026-03-03": {},
    "2026-03-04": {"3.44.1": 1, "3.45.2": 4, "3.46.0": 3},
    "2026-03-05": {"3.45.2": 4, "3.46.0": 4},
}
POSTGRESQL = [
    {"version": 160001, "count": 2},
    {"version": 150004, "count": 3},
    {"version": 90624, "count": 1},
    {"version": 0, "count": 2},
]


def summary(day: str, versions: dict[str, int]) -> dict:
    """A summary made before the decision keys existed: they are not needed here."""
    systems = sum(versions.values()) or 8
    by_xy: dict[str, int] = {}
    for version, count in versions.items():
        by_xy[xy(version)] = by_xy.get(xy(version), 0) + count
    core = {"name": "core", "systems": systems, "xy": counted(by_xy), "xyz": counted(versions)}
    return {
        "date": day,
        "systems": systems,
        "new_systems": 0,
        "persistent_systems": systems,
        "age": [],
        "components": [core] if versions else [],
        "postgresql_versions": POSTGRESQL if day == "2026-03-05" else [],
        "online_workers": {"processes_avg": None, "hosts_avg": None},
        "online_content_apps": {"processes_avg": None, "hosts_avg": None},
        "rbac": [],
    }


@pytest.fixture(autouse=True)
def days() -> None:
    for day, versions in DAYS.items():
        made = summary(day, versions)
        daily = DailySummary.objects.create(
            date=dt.date.fromisoformat(day), json=json.dumps(made), computed_at=timezone.now()
        )
        points.store(daily, made)


def get(client, path: str, **query) -> dict:
    response = client.get(path, query)
    assert response.status_code == 200, response.content
    return response.json()


def test_releases_give_first_seen_and_days_to_half_and_ninety_percent(client):
    assert get(client, "/api/v1/components/core/releases/") == {
        "component": "core",
        "releases": [
            # 3.46 on 50 % on 03-05; never on 90 %.
            {"version": "3.46", "first_seen": "2026-03-04", "at_start": False,
             "days_to_50": 1, "days_to_90": None},
            # 3.45 or newer: 50 % on 03-02; 87.5 % on 03-04 (03-03 has no core), 100 % on 03-05.
            {"version": "3.45", "first_seen": "2026-03-01", "at_start": True,
             "days_to_50": 1, "days_to_90": 4},
            {"version": "3.44", "first_seen": "2026-03-01", "at_start": True,
             "days_to_50": 0, "days_to_90": 0},
        ],
    }  # fmt: skip


def test_floor_gives_the_newest_version_each_share_already_runs(client):
    levels = get(client, "/api/v1/components/core/floor/")
    assert levels == {
        "component": "core",
        "date": "2026-03-05",
        "systems": 8,
        "levels": [
            {"share": 50, "version": "3.46.0"},
            {"share": 75, "version": "3.45.2"},
            {"share": 90, "version": "3.45.2"},
            {"share": 95, "version": "3.45.2"},
        ],
    }
    # 03-04: 3 on 3.46.0 (37.5 %), 7 on 3.45.2 or newer (87.5 %), 8 on 3.44.1 or newer.
    earlier = get(client, "/api/v1/components/core/floor/", date="2026-03-04")
    assert [level["version"] for level in earlier["levels"]] == [
        "3.45.2",
        "3.45.2",
        "3.44.1",
        "3.44.1",
    ]


def test_impact_of_a_component_minimum(client):
    assert get(
        client, "/api/v1/impact/", component="core", minimum="3.45.1", date="2026-03-04"
    ) == {
        "date": "2026-03-04",
        "component": "core",
        "minimum": "3.45.1",
        "systems": 8,
        "below": 1,
        "share": 0.125,
    }
    # An X.Y minimum: 3.45.2 is older than 3.46, 3.46.0 is not.
    latest = get(client, "/api/v1/impact/", component="core", minimum="3.46")
    assert (latest["date"], latest["below"], latest["share"]) == ("2026-03-05", 4, 0.5)


def test_impact_of_a_postgresql_minimum_compares_majors_as_versions(client):
    assert get(client, "/api/v1/impact/", postgresql="15") == {
        "date": "2026-03-05",
        "postgresql": "15",
        "systems": 6,
        "below": 1,
        "unknown": 2,
        "share": 0.167,
    }
    assert get(client, "/api/v1/impact/", postgresql="9.6")["below"] == 0
    assert get(client, "/api/v1/impact/", postgresql="16")["below"] == 4
    # A day without PostgreSQL numbers: nobody known, no share.
    empty = get(client, "/api/v1/impact/", postgresql="16", date="2026-03-01")
    assert (empty["systems"], empty["below"], empty["share"]) == (0, 0, None)


def test_decision_answers_come_as_csv_too(client):
    releases = client.get("/api/v1/components/core/releases/", {"format": "csv"})
    assert releases["Content-Type"] == "text/csv; charset=utf-8"
    assert releases.content.decode().splitlines()[:2] == [
        '"version","first_seen","at_start","days_to_50","days_to_90"',
        '"3.46","2026-03-04",False,1,""',
    ]
    floor = client.get("/api/v1/components/core/floor/", {"format": "csv"}).content.decode()
    assert floor.splitlines()[1] == '"core","2026-03-05",8,50,"3.46.0"'
    impact = client.get("/api/v1/impact/", {"postgresql": "15", "format": "csv"}).content.decode()
    assert impact.splitlines() == [
        '"date","postgresql","systems","below","unknown","share"',
        '"2026-03-05","15",6,1,2,0.167',
    ]


@pytest.mark.parametrize(
    ("path", "query", "status", "message"),
    [
        ("/api/v1/components/teapot/releases/", {}, 404, "no component 'teapot' in any summary"),
        ("/api/v1/components/teapot/floor/", {}, 404, "no component 'teapot' in any summary"),
        ("/api/v1/components/other/floor/", {}, 404, "no component 'other' in any summary"),
        ("/api/v1/components/core/floor/", {"date": "2026-02-01"}, 404,
         "no summary for 2026-02-01"),
        ("/api/v1/components/core/floor/", {"date": "soon"}, 400,
         "date must be a date in the form YYYY-MM-DD, not 'soon'"),
        ("/api/v1/components/core/releases/", {"date": "2026-03-01"}, 400,
         "unknown parameter 'date'; this takes format"),
        ("/api/v1/impact/", {"component": "teapot", "minimum": "1.0"}, 404,
         "no component 'teapot' in any summary"),
        ("/api/v1/impact/", {"component": "core", "minimum": "latest"}, 400,
         "minimum must be a version such as 3.45.0, not 'latest'"),
        ("/api/v1/impact/", {"component": "core"}, 400,
         "give component and minimum (e.g. component=core&minimum=3.45.0), or postgresql"),
        ("/api/v1/impact/", {"postgresql": "15", "component": "core"}, 400,
         "give either component and minimum, or postgresql, not both"),
        ("/api/v1/impact/", {"postgresql": "fifteen"}, 400,
         "postgresql must be a version such as 14, not 'fifteen'"),
        ("/api/v1/impact/", {"postgresql": "15", "format": "xml"}, 400,
         "format must be one of json, csv, not 'xml'"),
    ],
)  # fmt: skip
def test_decision_answers_say_what_is_wrong(client, path, query, status, message):
    response = client.get(path, query)
    assert (response.status_code, response.json()) == (status, {"error": message})


def test_decision_answers_are_built_from_public_summaries(client, settings):
    settings.PUBLIC_MIN_COUNT = 2
    points.refresh()  # the points of the new PUBLIC_MIN_COUNT
    # 03-04: the one system on 3.44.1 is folded into "other": no version reaches 90 %.
    floor = get(client, "/api/v1/components/core/floor/", date="2026-03-04")
    assert [level["version"] for level in floor["levels"]] == ["3.45.2", "3.45.2", None, None]
    impact = get(client, "/api/v1/impact/", component="core", minimum="3.45.1", date="2026-03-04")
    assert (impact["systems"], impact["below"]) == (8, 0)


def test_decision_answers_are_cached_per_version_of_the_summaries(
    client, django_assert_max_num_queries
):
    get(client, "/api/v1/components/core/releases/")
    with django_assert_max_num_queries(1):  # the summaries' state only
        get(client, "/api/v1/components/core/releases/")
    DailySummary.objects.filter(date="2026-03-05").update(computed_at=timezone.now())
    assert get(client, "/api/v1/components/core/releases/")["releases"][0]["version"] == "3.46"
