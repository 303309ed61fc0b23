"""Pages and chart data before the first summary, and chart data after a day is re-summarized."""

import datetime as dt
import json

import pytest

from pulpanalytics.models import DailySummary

pytestmark = pytest.mark.django_db

NOTHING_YET = "No day has been summarized yet"


@pytest.mark.parametrize(
    "path", ["/", "/plugins/", "/deployments/", "/postgresql/", "/age/", "/rbac/", "/?range=30d"]
)
def test_pages_of_an_empty_database_say_there_is_nothing_yet(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert NOTHING_YET in page
    assert "<canvas" not in page
    assert 'id="chart-specs"' not in page
    assert "chart.umd" not in page  # no chart, no Chart.js to download


def test_the_about_page_of_an_empty_database_is_whole(client):
    response = client.get("/about/")
    assert response.status_code == 200
    assert "How to turn it off" in response.content.decode()


def test_no_plugin_has_a_page_before_the_first_summary(client):
    assert client.get("/plugins/core/").status_code == 404


@pytest.mark.parametrize(
    ("chart", "query", "expected"),
    [
        (
            "systems",
            {"range": "30d", "granularity": "week"},
            {
                "labels": [],
                "datasets": [
                    {"label": "All systems", "data": []},
                    {"label": "New systems", "data": []},
                    {"label": "Persistent systems", "data": []},
                ],
            },
        ),
        (
            "postgresql-latest",
            {},
            {"labels": [], "datasets": [{"label": "Systems", "data": []}]},
        ),
    ],
)
def test_chart_data_of_an_empty_database_is_empty(client, chart, query, expected):
    response = client.get(f"/api/v1/charts/{chart}/", query)
    assert response.status_code == 200
    assert response.json() == expected
    assert "Last-Modified" not in response


def test_empty_chart_data_as_csv_is_only_the_header(client):
    response = client.get("/api/v1/charts/systems/", {"format": "csv", "granularity": "month"})
    assert response.content.decode() == (
        '"Month","All systems","New systems","Persistent systems"\r\n'
    )


def store(day: dt.date, systems: int, computed: dt.datetime) -> None:
    summary = {"date": day.isoformat(), "systems": systems, "new_systems": 0}
    summary["persistent_systems"] = systems
    DailySummary.objects.update_or_create(
        date=day, defaults={"json": json.dumps(summary), "computed_at": computed}
    )


def test_a_re_summarized_day_replaces_the_cached_chart_data(client):
    computed = dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC)
    store(dt.date(2026, 3, 1), 4, computed)
    store(dt.date(2026, 3, 2), 6, computed)
    first = client.get("/api/v1/charts/systems/").json()
    assert first["datasets"][0]["data"] == [4, 6]
    store(dt.date(2026, 3, 2), 7, computed + dt.timedelta(hours=5))
    again = client.get("/api/v1/charts/systems/")
    assert again.json()["datasets"][0]["data"] == [4, 7]
    assert again["Last-Modified"] == "Tue, 03 Mar 2026 06:00:00 GMT"
    # A range that does not hold the re-summarized day keeps its cached version.
    assert client.get("/api/v1/charts/systems/", {"end": "2026-03-01"}).json()["labels"] == [
        "2026-03-01"
    ]


def test_a_newly_summarized_day_shows_up_in_every_range_that_holds_it(client):
    computed = dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC)
    store(dt.date(2026, 3, 1), 4, computed)
    assert client.get("/api/v1/charts/systems/", {"range": "30d"}).json()["labels"] == [
        "2026-03-01"
    ]
    store(dt.date(2026, 3, 2), 5, computed + dt.timedelta(days=1))
    labels = client.get("/api/v1/charts/systems/", {"range": "30d"}).json()["labels"]
    assert labels == ["2026-03-01", "2026-03-02"]


def test_a_plugin_whose_name_no_url_can_hold_is_listed_without_a_link(client):
    # Names come from reports; the path converter takes no newline, so reverse() cannot make one.
    components = [{"name": name, "systems": 2, "xy": [], "xyz": []} for name in ("a\nb", "core")]
    summary = {"date": "2026-03-01", "persistent_systems": 4, "components": components}
    DailySummary.objects.create(
        date=dt.date(2026, 3, 1),
        json=json.dumps(summary),
        computed_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    )
    response = client.get("/plugins/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<li><a href="/plugins/core/">core</a> <span class="share">50.0%' in page
    assert '<li>a\nb <span class="share">50.0%' in page
