"""Staff browse raw rows and the registry read-only and find a system by the id they type."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User

from pulpanalytics.models import Report, System

pytestmark = pytest.mark.django_db

FIRST = "22222222-2222-4222-8222-222222222222"
SECOND = "33333333-3333-4333-8333-333333333333"


@pytest.fixture
def staff_client(client):
    User.objects.create_superuser("staff", "staff@example.org", "pw")
    client.login(username="staff", password="pw")
    return client


@pytest.fixture
def two_systems(post_report, telemetry):
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC), tick=False):
        post_report(telemetry(FIRST, components={"core": "3.45.2"}, postgresql_version=150004))
        post_report(telemetry(SECOND, components={"core": "3.44.0"}))
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), tick=False):
        post_report(telemetry(FIRST, components={"core": "3.46.0"}))


def test_admin_search_finds_a_system_by_its_typed_id(staff_client, two_systems):
    response = staff_client.get("/admin/pulpanalytics/system/", {"q": FIRST.upper()})
    assert response.status_code == 200
    result = response.context["cl"].result_list
    assert [s.pk for s in result] == [System.objects.get(last_seen=dt.date(2026, 3, 2)).pk]


def test_admin_search_finds_the_reports_of_a_typed_id(staff_client, two_systems):
    response = staff_client.get("/admin/pulpanalytics/report/", {"q": FIRST})
    days = sorted(r.day for r in response.context["cl"].result_list)
    assert days == [dt.date(2026, 3, 1), dt.date(2026, 3, 2)]
    page = response.content.decode()
    assert "3.46.0" in page and "15.4" in page and "150004" not in page


def test_admin_search_for_an_unknown_id_finds_nothing(staff_client, two_systems):
    response = staff_client.get(
        "/admin/pulpanalytics/system/", {"q": "44444444-4444-4444-8444-444444444444"}
    )
    assert list(response.context["cl"].result_list) == []


def test_admin_lists_filter_by_day(staff_client, two_systems):
    response = staff_client.get("/admin/pulpanalytics/report/", {"day__gte": "2026-03-02"})
    assert [r.day for r in response.context["cl"].result_list] == [dt.date(2026, 3, 2)]


def test_admin_raw_rows_are_read_only(staff_client, two_systems):
    report = Report.objects.order_by("day").first()
    assert staff_client.get(f"/admin/pulpanalytics/report/{report.pk}/change/").status_code == 200
    assert staff_client.get("/admin/pulpanalytics/report/add/").status_code == 403
    assert (
        staff_client.post(
            f"/admin/pulpanalytics/report/{report.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert staff_client.get("/admin/pulpanalytics/system/add/").status_code == 403
    assert Report.objects.count() == 3


def test_admin_needs_a_login(client):
    response = client.get("/admin/pulpanalytics/report/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_summarize_now_runs_the_command_and_shows_its_output(staff_client, two_systems):
    import json

    from pulpanalytics.models import DailySummary

    with time_machine.travel(dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC), tick=False):
        page = staff_client.get("/admin/pulpanalytics/dailysummary/")
        assert "Summarize now" in page.content.decode()
        response = staff_client.post("/admin/pulpanalytics/dailysummary/summarize-now/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Summarized 2026-03-01: 2 systems, 0 persistent" in text
    assert "Summarized 2 days; pruned 0 raw systems" in text
    assert json.loads(DailySummary.objects.get(date="2026-03-02").json)["persistent_systems"] == 1


def test_summarize_now_is_post_only_and_staff_only(client, staff_client, two_systems):
    from pulpanalytics.models import DailySummary

    assert staff_client.get("/admin/pulpanalytics/dailysummary/summarize-now/").status_code == 405
    staff_client.logout()
    User.objects.create_user("clerk", password="pw", is_staff=True)  # staff, no permission
    client.login(username="clerk", password="pw")
    assert client.post("/admin/pulpanalytics/dailysummary/summarize-now/").status_code == 403
    client.logout()
    anonymous = client.post("/admin/pulpanalytics/dailysummary/summarize-now/")
    assert anonymous.status_code == 302
    assert DailySummary.objects.count() == 0


def test_resummarize_selected_days_recomputes_them(staff_client, two_systems, settings):
    import json

    from pulpanalytics.models import DailySummary

    with time_machine.travel(dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC), tick=False):
        staff_client.post("/admin/pulpanalytics/dailysummary/summarize-now/")
        settings.PERSISTENT_MIN_AGE_DAYS = 2
        day2 = DailySummary.objects.get(date="2026-03-02")
        response = staff_client.post(
            "/admin/pulpanalytics/dailysummary/",
            {
                "action": "resummarize",
                "_selected_action": [day2.pk],
            },
        )
    assert response.status_code == 200
    assert "Summarized 2026-03-02: 1 systems, 0 persistent" in response.content.decode()
    assert json.loads(DailySummary.objects.get(date="2026-03-02").json)["persistent_systems"] == 0
    assert json.loads(DailySummary.objects.get(date="2026-03-01").json)["systems"] == 2


def test_summarize_now_with_nothing_to_do_says_why(staff_client, two_systems, settings):
    settings.SUMMARIZE_GRACE_MINUTES = 30
    with time_machine.travel(dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC), tick=False):
        staff_client.post("/admin/pulpanalytics/dailysummary/summarize-now/")
        text = staff_client.post("/admin/pulpanalytics/dailysummary/summarize-now/")
    assert "Summarized 0 days" in text.content.decode()
    assert (
        "No day to summarize: every ended day with reports is summarized (the latest is "
        "2026-03-02); 2026-03-03 (UTC) is summarized once it has ended and "
        "SUMMARIZE_GRACE_MINUTES=30 have passed."
    ) in text.content.decode()


def test_a_system_links_to_its_reports(staff_client, two_systems):
    system = Report.objects.filter(day=dt.date(2026, 3, 2)).get().system
    page = staff_client.get(f"/admin/pulpanalytics/system/{system.pk}/change/").content.decode()
    link = f"/admin/pulpanalytics/report/?system__id__exact={system.pk}"
    assert f'<a href="{link}">' in page
    reports = staff_client.get(link)
    assert sorted(r.day for r in reports.context["cl"].result_list) == [
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 2),
    ]


def test_the_report_age_filter_offers_a_few_ranges_not_every_age(staff_client, two_systems):
    response = staff_client.get("/admin/pulpanalytics/report/")
    page = response.content.decode()
    assert "new (0 days)" in page and "a year or more" in page
    newer = staff_client.get("/admin/pulpanalytics/report/", {"age": "1-6"})
    assert [r.age_days for r in newer.context["cl"].result_list] == [1]
