"""The summaries API: docs/design.md's Summary JSON, date ranges, errors and cache validators."""

import datetime as dt
import json

import pytest
from django.core.cache import caches

from pulpanalytics.models import DailySummary

pytestmark = pytest.mark.django_db

COMPUTED = dt.datetime(2026, 3, 4, 0, 30, tzinfo=dt.UTC)


@pytest.fixture
def three_summaries() -> list[dict]:
    days = []
    for offset in range(3):
        day = dt.date(2026, 3, 1) + dt.timedelta(days=offset)
        summary = {
            "date": day.isoformat(),
            "systems": offset + 1,
            "new_systems": 1,
            "persistent_systems": offset,
        }
        DailySummary.objects.create(
            date=day, json=json.dumps(summary), computed_at=COMPUTED + dt.timedelta(minutes=offset)
        )
        days.append(summary)
    return days


def test_summary_list_returns_every_summary_in_date_order(client, three_summaries):
    response = client.get("/api/v1/summaries/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"summaries": three_summaries}


@pytest.mark.parametrize(
    ("query", "dates"),
    [
        ("?start=2026-03-02", ["2026-03-02", "2026-03-03"]),
        ("?end=2026-03-02", ["2026-03-01", "2026-03-02"]),
        ("?start=2026-03-02&end=2026-03-02", ["2026-03-02"]),
        ("?start=2026-04-01", []),
    ],
)
def test_summary_list_bounds_are_inclusive_and_optional(client, three_summaries, query, dates):
    response = client.get("/api/v1/summaries/" + query)
    assert [s["date"] for s in response.json()["summaries"]] == dates


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?start=yesterday", "start must be a date in the form YYYY-MM-DD, not 'yesterday'"),
        ("?end=2026-02-30", "end must be a date in the form YYYY-MM-DD, not '2026-02-30'"),
        ("?start=2026-03-03&end=2026-03-01", "start 2026-03-03 is after end 2026-03-01"),
    ],
)
def test_summary_list_rejects_bad_dates(client, three_summaries, query, message):
    response = client.get("/api/v1/summaries/" + query)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_summary_detail_returns_the_stored_summary(client, three_summaries):
    response = client.get("/api/v1/summaries/2026-03-02/")
    assert response.status_code == 200
    assert response.json() == three_summaries[1]


def test_summary_detail_of_a_day_without_summary_is_404(client, three_summaries):
    response = client.get("/api/v1/summaries/2026-02-28/")
    assert response.status_code == 404
    assert response.json() == {"error": "no summary for 2026-02-28"}


@pytest.mark.parametrize("day", ["2026-3-1", "march", "2026-02-30", "20260301"])
def test_summary_detail_of_a_malformed_date_is_400(client, three_summaries, day):
    response = client.get(f"/api/v1/summaries/{day}/")
    assert response.status_code == 400
    assert response.json()["error"].startswith("the date must be a date in the form YYYY-MM-DD")


def test_summaries_carry_cache_validators_and_answer_304(client, three_summaries):
    response = client.get("/api/v1/summaries/2026-03-02/")
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Last-Modified"] == "Wed, 04 Mar 2026 00:31:00 GMT"
    etag = response["ETag"]
    assert client.get("/api/v1/summaries/2026-03-02/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    listing = client.get("/api/v1/summaries/")
    assert listing["Last-Modified"] == "Wed, 04 Mar 2026 00:32:00 GMT"
    again = client.get("/api/v1/summaries/", HTTP_IF_MODIFIED_SINCE=listing["Last-Modified"])
    assert again.status_code == 304
    # A re-summarized day changes the validators.
    DailySummary.objects.filter(date="2026-03-02").update(
        json=json.dumps({"date": "2026-03-02", "systems": 9}),
        computed_at=COMPUTED + dt.timedelta(days=1),
    )
    fresh = client.get("/api/v1/summaries/2026-03-02/", HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert fresh.json()["systems"] == 9


def test_summary_list_of_an_empty_database(client):
    response = client.get("/api/v1/summaries/")
    assert response.status_code == 200
    assert response.json() == {"summaries": []}
    assert "Last-Modified" not in response


def test_summaries_api_is_read_only(client, three_summaries):
    assert client.post("/api/v1/summaries/").status_code == 405
    assert client.delete("/api/v1/summaries/2026-03-01/").status_code == 405


def test_a_summary_list_is_built_once_unless_it_is_too_large_to_keep(
    client, three_summaries, settings, django_assert_num_queries
):
    # Built: the version of the summaries, where the page ends, then their JSON; kept: the
    # version only.
    with django_assert_num_queries(3):
        first = client.get("/api/v1/summaries/")
    with django_assert_num_queries(1):
        assert client.get("/api/v1/summaries/").content == first.content
    # An answer above an eighth of the cache's bytes is never kept (memory_cache.py), so ranges
    # picked at will cannot fill the memory.
    cache = caches["charts"]
    cache.largest = len(first.content) - 1
    try:
        for _ in range(2):
            with django_assert_num_queries(3):
                again = client.get("/api/v1/summaries/", {"start": "2026-03-01"})
            assert again.content == first.content
            assert again["ETag"] == first["ETag"]
    finally:
        cache.largest = cache.max_bytes // 8
