"""Pages kept per version of the summaries and query string; renders counted per client."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.utils import timezone

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def summarize_day(day: dt.date, *, systems: int, report_on) -> None:
    from pulpanalytics.summarize import store_summary

    for n in range(systems):
        report_on(day, f"{n:08x}-0000-4000-8000-000000000000")
    store_summary(day, now=NOW)


def test_a_repeat_visit_is_the_kept_page_with_one_query(
    client, report_on, django_assert_num_queries
):
    summarize_day(dt.date(2026, 3, 1), systems=3, report_on=report_on)
    first = client.get("/deployments/", {"range": "all"})
    with django_assert_num_queries(1):  # the version of the summaries
        again = client.get("/deployments/", {"range": "all"})
    assert (again.status_code, again.content, again["ETag"]) == (200, first.content, first["ETag"])
    unchanged = client.get("/deployments/", {"range": "all"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert (unchanged.status_code, unchanged.content) == (304, b"")


def test_a_new_summary_makes_a_new_page(client, report_on):
    summarize_day(dt.date(2026, 3, 1), systems=3, report_on=report_on)
    before = client.get("/").content.decode()
    summarize_day(dt.date(2026, 3, 2), systems=5, report_on=report_on)
    after = client.get("/").content.decode()
    assert "2026-03-02" not in before
    assert "2026-03-02" in after


def test_renders_of_pages_not_kept_yet_are_limited_per_client(client, report_on, settings):
    settings.UNCACHED_PAGE_RATE_LIMIT = 2
    summarize_day(dt.date(2026, 3, 1), systems=3, report_on=report_on)
    statuses = [
        client.get("/age/", {"start": f"2026-02-{day:02d}"}).status_code for day in (1, 2, 3)
    ]
    assert statuses == [200, 200, 429]
    refused = client.get("/age/", {"start": "2026-02-04"})
    assert refused.content.decode().startswith(
        "too many pages rendered for this address; the range presets are cached; retry after "
    )
    assert int(refused["Retry-After"]) > 0
    # A page already kept costs no render: it is still served to the same client.
    assert client.get("/age/", {"start": "2026-02-01"}).status_code == 200
    # Another client has its own count.
    assert client.get("/age/", {"start": "2026-02-05"}, REMOTE_ADDR="192.0.2.7").status_code == 200
    caches["charts"].clear()
    assert client.get("/age/", {"start": "2026-02-01"}).status_code == 429


def test_a_kept_page_is_sent_gzipped_to_a_client_that_takes_gzip(client, report_on):
    import gzip

    summarize_day(dt.date(2026, 3, 1), systems=3, report_on=report_on)
    plain = client.get("/postgresql/")
    packed = client.get("/postgresql/", HTTP_ACCEPT_ENCODING="br, gzip")
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 2  # 1,622 of 4,758 bytes today
    assert "Content-Encoding" not in plain
    assert (plain["Vary"], packed["Vary"]) == ("Accept-Encoding", "Accept-Encoding")
    assert packed["ETag"] == plain["ETag"][:-1] + '-gz"'
    refused = client.get("/postgresql/", HTTP_ACCEPT_ENCODING="gzip;q=0, identity")
    assert "Content-Encoding" not in refused
    again = client.get(
        "/postgresql/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"]
    )
    assert again.status_code == 304
