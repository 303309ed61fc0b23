"""GET /api/v1/summaries/ answers at most 366 summaries, oldest first; "next" and a Link header
lead to the next page (README "Open data, badges and the watchdog")."""

import datetime as dt
import json

import pytest

from pulpanalytics.models import DailySummary

pytestmark = pytest.mark.django_db

FIRST = dt.date(2024, 1, 1)
COMPUTED = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)


def day(number: int) -> dt.date:
    return FIRST + dt.timedelta(days=number)


def summaries(count: int) -> None:
    DailySummary.objects.bulk_create(
        DailySummary(
            date=day(n),
            json=json.dumps({"date": day(n).isoformat(), "systems": n}, separators=(",", ":")),
            computed_at=COMPUTED,
        )
        for n in range(count)
    )


def dates(answer: dict) -> list[str]:
    return [summary["date"] for summary in answer["summaries"]]


def every_day(first: int, last: int) -> list[str]:
    return [day(n).isoformat() for n in range(first, last + 1)]


def test_exactly_366_summaries_are_one_page_without_next(client):
    summaries(366)
    response = client.get("/api/v1/summaries/")
    assert dates(response.json()) == every_day(0, 365)
    assert "next" not in response.json()
    assert "Link" not in response


def test_367_summaries_are_two_pages_linked_by_next_and_a_link_header(client):
    summaries(367)
    first = client.get("/api/v1/summaries/")
    body = first.json()
    assert dates(body) == every_day(0, 365)
    assert body["next"] == f"http://testserver/api/v1/summaries/?start={day(366)}"
    assert first["Link"] == f'<{body["next"]}>; rel="next"'
    last = client.get(body["next"])
    assert dates(last.json()) == [day(366).isoformat()]
    assert "next" not in last.json()
    assert "Link" not in last


def test_paging_keeps_the_end_and_starts_where_asked(client):
    summaries(800)
    first = client.get("/api/v1/summaries/", {"start": day(10), "end": day(700)}).json()
    assert dates(first) == every_day(10, 375)
    assert first["next"] == f"http://testserver/api/v1/summaries/?start={day(376)}&end={day(700)}"
    second = client.get(first["next"]).json()
    assert dates(second) == every_day(376, 700)
    assert "next" not in second


def test_following_next_from_the_start_yields_every_summary_once_in_order(client):
    summaries(800)
    seen, url = [], "/api/v1/summaries/"
    while url:
        answer = client.get(url).json()
        assert len(answer["summaries"]) <= 366
        seen += dates(answer)
        url = answer.get("next")
    assert seen == every_day(0, 799)


def test_pages_with_gaps_hold_366_summaries_not_366_days(client):
    summaries(400)
    DailySummary.objects.filter(date__in=[day(n) for n in range(0, 400, 2)]).delete()
    first = client.get("/api/v1/summaries/").json()
    assert len(first["summaries"]) == 200
    assert "next" not in first
    DailySummary.objects.bulk_create(
        DailySummary(date=d, json=json.dumps({"date": d.isoformat()}), computed_at=COMPUTED)
        for d in map(day, range(400, 800))
    )
    # 200 odd days, then 166 of the days from 400 on.
    page = client.get("/api/v1/summaries/").json()
    assert len(page["summaries"]) == 366
    assert page["summaries"][-1]["date"] == day(565).isoformat()
    assert page["next"].endswith(f"?start={day(566)}")


def test_a_folded_summary_list_is_paged_too(client, settings):
    settings.PUBLIC_MIN_COUNT = 3
    summaries(367)
    body = client.get("/api/v1/summaries/").json()
    assert len(body["summaries"]) == 366
    assert body["next"].endswith(f"?start={day(366)}")
