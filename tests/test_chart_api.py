"""The chart API on tests/site_data.py: Chart.js JSON, CSV, ranges, granularity, errors, caching.

The data set is committed once for the module (the `site_data` fixture); these tests only read.
"""

import pytest

from pulpanalytics import metrics
from tests.site_data import LATEST_DAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_data")]

ALL_SYSTEMS = [2] * 10 + [3] * 20 + [4] * 14 + [5]
NEW_SYSTEMS = [2] + [0] * 9 + [1] + [0] * 19 + [1] + [0] * 13 + [1]
PERSISTENT = [0] + [2] * 10 + [3] * 20 + [4] * 14
AGE_LABELS = [
    "0 days",
    "1 day",
    "2\u20133 days",
    "4\u20137 days",
    "8\u201315 days",
    "16\u201331 days",
    "32\u201363 days",
]


def test_systems_chart_has_one_point_per_summarized_day_by_default(client):
    response = client.get("/api/v1/charts/systems/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["labels"][0] == "2026-01-16"
    assert data["labels"][-1] == LATEST_DAY.isoformat() == "2026-03-01"
    assert data["datasets"] == [
        {"label": "All systems", "data": ALL_SYSTEMS},
        {"label": "New systems", "data": NEW_SYSTEMS},
        {"label": "Persistent systems", "data": PERSISTENT},
    ]


def test_weekly_points_average_the_days_of_each_iso_week(client):
    data = client.get("/api/v1/charts/systems/", {"granularity": "week"}).json()
    assert data["labels"] == [
        "2026-01-12",
        "2026-01-19",
        "2026-01-26",
        "2026-02-02",
        "2026-02-09",
        "2026-02-16",
        "2026-02-23",
    ]
    # Week of 02-09: six days with 3 systems, then D's first day with 4 -> 22 / 7.
    assert data["datasets"][0]["data"] == [2.0, 2.0, 3.0, 3.0, 3.14, 4.0, 4.14]


def test_monthly_points_average_the_days_of_each_month(client):
    data = client.get("/api/v1/charts/systems/", {"granularity": "month"}).json()
    assert data["labels"] == ["2026-01", "2026-02", "2026-03"]
    # January: ten days with 2 systems and six with 3 -> 38 / 16.
    assert data["datasets"][0]["data"] == [2.38, 3.5, 5.0]


@pytest.mark.parametrize(
    ("query", "first", "count"),
    [
        ({"range": "30d"}, "2026-01-31", 30),
        ({"range": "90d"}, "2026-01-16", 45),
        ({"range": "all"}, "2026-01-16", 45),
        ({"start": "2026-02-20", "end": "2026-02-22"}, "2026-02-20", 3),
        ({"start": "2026-02-27"}, "2026-02-27", 3),
    ],
)
def test_a_range_selects_its_days(client, query, first, count):
    labels = client.get("/api/v1/charts/systems/", query).json()["labels"]
    assert (labels[0], len(labels)) == (first, count)


def test_component_versions_as_csv_per_week_with_a_header_row(client):
    response = client.get(
        "/api/v1/charts/component-versions/",
        {"component": "core", "range": "30d", "granularity": "week", "format": "csv"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="component-versions-core.csv"'
    # A moves from 3.44 to 3.45 on 2026-02-05, so its week has 3.44 on 3 days of 7.
    assert response.content.decode().splitlines() == [
        '"Week (Monday)","3.46","3.45","3.44"',
        '"2026-01-26",1.0,1.0,1.0',
        '"2026-02-02",1.0,1.57,0.43',
        '"2026-02-09",1.0,2.0,0.0',
        '"2026-02-16",2.0,2.0,0.0',
        '"2026-02-23",2.0,2.0,0.0',
    ]


def test_component_versions_in_percent_of_the_systems_running_the_component(client):
    data = client.get(
        "/api/v1/charts/component-versions/", {"component": "core", "start": "2026-03-01"}
    ).json()
    assert data == {
        "labels": ["2026-03-01"],
        "datasets": [{"label": "3.46", "data": [2]}, {"label": "3.45", "data": [2]}],
    }
    percent = client.get(
        "/api/v1/charts/component-versions/",
        {"component": "core", "start": "2026-03-01", "mode": "percent"},
    ).json()
    assert [d["data"] for d in percent["datasets"]] == [[50.0], [50.0]]


@pytest.mark.parametrize(
    ("chart", "query", "expected"),
    [
        (
            "plugins",
            {},
            {
                # By share, largest first; names carry no order.
                "labels": ["core", "file", "ansible", "container", "rpm"],
                "datasets": [
                    {"label": "% of persistent systems", "data": [100.0, 50.0, 25.0, 25.0, 25.0]}
                ],
            },
        ),
        (
            "component-xyz",
            {"component": "core"},
            {
                "labels": ["3.46.1", "3.46.0", "3.45.2"],
                "datasets": [{"label": "Systems", "data": [1, 1, 2]}],
            },
        ),
        (
            "component-newer",
            {"component": "core"},
            {
                "labels": ["3.46.1", "3.46.0", "3.45.2"],
                "datasets": [{"label": "% on this version or newer", "data": [25.0, 50.0, 100.0]}],
            },
        ),
        (
            "postgresql-latest",
            {},
            {
                "labels": ["16.2", "15.4", "13.10", "unknown"],
                "datasets": [{"label": "Systems", "data": [1, 1, 1, 1]}],
            },
        ),
        (
            "age-latest",
            {},
            {
                "labels": AGE_LABELS,
                "datasets": [{"label": "Systems", "data": [1, 0, 0, 0, 1, 0, 3]}],
            },
        ),
    ],
)
def test_charts_of_the_latest_day_of_the_range(client, chart, query, expected):
    assert client.get(f"/api/v1/charts/{chart}/", query).json() == expected


def test_latest_day_charts_ignore_the_granularity_and_follow_the_range_end(client):
    query = {"component": "core", "granularity": "month", "end": "2026-02-01"}
    data = client.get("/api/v1/charts/component-xyz/", query).json()
    assert data == {
        "labels": ["3.46.0", "3.45.2", "3.44.0"],
        "datasets": [{"label": "Systems", "data": [1, 1, 1]}],
    }


def test_deployment_averages_over_time_are_null_on_a_day_without_persistent_systems(client):
    data = client.get("/api/v1/charts/online-workers/").json()
    assert data["datasets"][0]["label"] == "Processes (average)"
    assert data["datasets"][0]["data"][:2] == [None, 3.0]
    assert data["datasets"][0]["data"][-1] == 3.25  # (4 + 2 + 6 + 1) / 4
    hosts = next(d for d in data["datasets"] if d["label"] == "Hosts (average)")
    assert hosts["data"][-1] == 1.75  # (2 + 1 + 3 + 1) / 4


def test_rbac_charts_count_systems_in_power_of_two_buckets(client):
    data = client.get("/api/v1/charts/rbac-users/", {"start": "2026-03-01"}).json()
    assert data == {
        "labels": ["2026-03-01"],
        "datasets": [{"label": "4\u20137", "data": [1]}, {"label": "32\u201363", "data": [1]}],
    }


def test_chart_data_carries_cache_validators_and_answers_304(client):
    response = client.get("/api/v1/charts/systems/", {"range": "30d"})
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Last-Modified"] == "Mon, 02 Mar 2026 01:00:00 GMT"  # when summarize ran
    again = client.get(
        "/api/v1/charts/systems/", {"range": "30d"}, HTTP_IF_NONE_MATCH=response["ETag"]
    )
    assert again.status_code == 304
    assert again.content == b""


def test_chart_data_is_built_once_and_then_served_from_the_cache(client, django_assert_num_queries):
    # Cold: the bounds and version of the summaries, the days of the range, their stored points,
    # and the days and points of plugin adoption (whether any summary counted the component).
    with django_assert_num_queries(5):
        first = client.get("/api/v1/charts/component-versions/", {"component": "core"})
    # Warm: only the bounds and the version; neither points nor summaries are read again.
    with django_assert_num_queries(1):
        second = client.get("/api/v1/charts/component-versions/", {"component": "core"})
    assert second.content == first.content


def test_any_range_of_an_over_time_chart_is_a_slice_of_its_points_read_once(
    client, django_assert_num_queries
):
    # Every range of a chart reads its points of every day once per version of the summaries;
    # a new range is then a slice of them (each distinct range is a cache key of its own).
    with django_assert_num_queries(3):
        whole = client.get("/api/v1/charts/systems/", {"range": "all"}).json()
    for start, end in [("2026-02-01", "2026-02-10"), ("2026-02-03", "2026-02-04")]:
        with django_assert_num_queries(1):
            part = client.get("/api/v1/charts/systems/", {"start": start, "end": end}).json()
        first = whole["labels"].index(start)
        last = whole["labels"].index(end) + 1
        assert part == {
            "labels": whole["labels"][first:last],
            "datasets": [
                {"label": d["label"], "data": d["data"][first:last]} for d in whole["datasets"]
            ],
        }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"range": "5y"}, "range must be one of 30d, 90d, 1y, all, not '5y'"),
        ({"start": "yesterday"}, "start must be a date in the form YYYY-MM-DD, not 'yesterday'"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "start 2026-03-01 is after end 2026-02-01"),
        ({"range": "30d", "end": "2026-02-01"}, "give either range or start/end, not both"),
        ({"granularity": "hour"}, "granularity must be one of day, week, month, not 'hour'"),
        ({"format": "xlsx"}, "format must be one of json, csv, not 'xlsx'"),
        (
            {"colour": "red"},
            "unknown parameter 'colour' for chart systems; it takes range, start, end, "
            "granularity, format",
        ),
    ],
)
def test_bad_parameters_are_400_with_a_message(client, query, message):
    response = client.get("/api/v1/charts/systems/", query)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_bad_chart_parameters_are_400_with_the_chart_message(client):
    missing = client.get("/api/v1/charts/component-xyz/")
    assert missing.status_code == 400
    assert missing.json() == {"error": "chart component-xyz needs the parameter 'component'"}
    mode = client.get("/api/v1/charts/component-versions/", {"component": "core", "mode": "ratio"})
    assert mode.status_code == 400
    assert mode.json() == {"error": "mode must be one of count, percent, not 'ratio'"}


def test_an_unknown_chart_is_404(client):
    response = client.get("/api/v1/charts/teapots/")
    assert response.status_code == 404
    assert response.json() == {"error": "no chart named 'teapots'; GET /api/v1/charts/ lists them"}


def test_the_chart_list_names_every_chart_with_its_url_and_parameters(client):
    charts = client.get("/api/v1/charts/").json()["charts"]
    # Every chart of the registry, in its order (the metrics' order, then each metric's).
    assert [c["name"] for c in charts] == list(metrics.charts())
    assert [c["name"] for c in charts][:6] == [
        "systems",
        "age-latest",
        "age",
        "plugins",
        "plugins-over-time",
        "component-versions",
    ]
    versions = charts[5]
    assert versions["url"] == "/api/v1/charts/component-versions/"
    assert versions["required"] == ["component"]
    assert set(versions["parameters"]) == {"component", "mode"}


def test_the_chart_api_is_read_only(client):
    assert client.post("/api/v1/charts/systems/").status_code == 405
    assert client.post("/api/v1/openapi.json").status_code == 405
