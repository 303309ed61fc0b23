"""/data/: the files summarize makes (every summary as JSON lines, each chart's history as CSV),
served as stored with cache validators, and equal to what the API answers."""

import datetime as dt
import gzip
import io
import json
import zipfile

import pytest

from pulpanalytics import opendata, points
from pulpanalytics.models import DailySummary, DataFile
from tests.site_data import DAYS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_data")]

NOW = dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC)
DUMP = "/data/summaries.ndjson.gz"


def dump_lines(client) -> list[str]:
    response = client.get(DUMP)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    return gzip.decompress(response.content).decode().splitlines()


def api_summaries(client) -> list[str]:
    """Each day's summary as GET /api/v1/summaries/<day>/ answers it, in date order."""
    days = DailySummary.objects.order_by("date").values_list("date", flat=True)
    return [client.get(f"/api/v1/summaries/{day}/").content.decode() for day in days]


def test_summarize_made_the_dump_of_every_summary_equal_to_the_api(client):
    lines = dump_lines(client)
    assert len(lines) == DAYS
    assert lines == api_summaries(client)
    listed = client.get("/api/v1/summaries/").json()["summaries"]
    assert [json.loads(line) for line in lines] == listed


@pytest.mark.parametrize("k", [2, 5])
def test_the_dump_is_folded_by_the_public_minimum_as_the_api_is(client, settings, k):
    settings.PUBLIC_MIN_COUNT = k
    points.refresh()  # as summarize does before it makes the files
    assert opendata.refresh(now=NOW) == [opendata.SUMMARIES, opendata.CHARTS]
    lines = dump_lines(client)
    assert lines == api_summaries(client)
    assert [json.loads(line) for line in lines] == client.get("/api/v1/summaries/").json()[
        "summaries"
    ]
    assert any('"other":true' in line for line in lines)


def test_the_files_are_remade_only_when_the_summaries_change(client):
    assert opendata.refresh(now=NOW) == []
    before = DataFile.objects.get(name=opendata.SUMMARIES)
    latest = DailySummary.objects.order_by("-date").first()
    later = NOW + dt.timedelta(hours=5)
    DailySummary.objects.filter(pk=latest.pk).update(computed_at=later)  # re-summarized
    assert opendata.refresh(now=later) == [opendata.SUMMARIES, opendata.CHARTS]
    after = DataFile.objects.get(name=opendata.SUMMARIES)
    # The same summaries make the same bytes: the ETag stays, the date moves.
    assert (after.etag, after.made_at) == (before.etag, later)
    assert bytes(after.content) == bytes(before.content)


def test_a_file_has_an_etag_and_last_modified_and_answers_304(client):
    first = client.get(DUMP)
    stored = DataFile.objects.get(name=opendata.SUMMARIES)
    assert first["ETag"] == stored.etag
    assert first["Last-Modified"]
    assert "max-age=3600" in first["Cache-Control"]
    assert first["Content-Disposition"] == 'attachment; filename="summaries.ndjson.gz"'
    assert client.get(DUMP, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    since = client.get(DUMP, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    head = client.head(DUMP)
    assert head.status_code == 200
    assert head["Content-Length"] == str(stored.size) == str(len(first.content))
    assert head.content == b""


def test_a_file_not_made_yet_is_a_404_that_says_summarize_makes_it(client):
    DataFile.objects.all().delete()
    missing = client.get(DUMP)
    assert missing.status_code == 404
    assert "manage.py summarize" in missing.content.decode()
    unknown = client.get("/data/passwords.txt")
    assert unknown.status_code == 404
    assert "GET /data/ lists them" in unknown.content.decode()
    assert client.get("/data/").status_code == 200
    assert client.post(DUMP).status_code == 405


def test_the_chart_archive_holds_each_over_time_chart_as_the_csv_api_answers_it(client):
    response = client.get("/data/charts.zip")
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"README.txt", "systems.csv", "component-versions_component-core.csv"} <= names
    assert "component-versions_component-rpm_mode-percent.csv" in names
    assert "CC0 1.0" in archive.read("README.txt").decode()
    for name, query in (
        ("systems.csv", {}),
        (
            "component-versions_component-rpm_mode-percent.csv",
            {"component": "rpm", "mode": "percent"},
        ),
    ):
        chart = name.split("_")[0].removesuffix(".csv")
        api = client.get(f"/api/v1/charts/{chart}/", {"range": "all", "format": "csv", **query})
        assert archive.read(name).decode() == api.content.decode(), name


def test_the_data_page_lists_the_files_with_sizes_dates_and_the_licence(client):
    page = client.get("/data/").content.decode()
    for name in (opendata.SUMMARIES, opendata.CHARTS):
        assert f'href="/data/{name}"' in page
    assert "2026-01-16 to 2026-03-01" in page
    assert "KB" in page or "bytes" in page
    assert "CC0 1.0" in page


def test_the_about_page_says_what_open_data_there_is_under_which_licence(client):
    page = client.get("/about/").content.decode()
    assert 'id="open-data-title"' in page
    assert 'href="/data/"' in page
    assert "CC0 1.0 Universal" in page
    assert "once a day" in page


def test_the_chart_archive_waits_for_stale_chart_points_to_be_remade(settings):
    before = DataFile.objects.get(name=opendata.CHARTS).made_from
    settings.PUBLIC_MIN_COUNT = 2  # every day's points are now stale
    assert opendata.refresh(now=NOW) == [opendata.SUMMARIES]
    assert DataFile.objects.get(name=opendata.CHARTS).made_from == before
    points.refresh()  # as summarize does before it makes the files
    assert opendata.refresh(now=NOW) == [opendata.CHARTS]
