"""docs/reliability.md H1, H2, H5: no address is kept, every column has a purpose, a system can be
forgotten on request."""

import base64
import ipaddress
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from pulpanalytics.models import Component, LimitCounter, Report, System
from pulpanalytics.system_ids import hash_system_id
from tests.helpers import record

FIRST = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
SECOND = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"

# H2: what every stored column is for. A new column fails test_every_stored_column_has_a_purpose
# until it is described here (and a column that holds personal data is questioned here first).
OUR_COLUMNS = {
    "pulpanalytics_system": {
        "id": "primary key",
        "system_hash": "HMAC-SHA256 of the installation's system_id, never the id itself",
        "first_seen": "UTC day of the first report: the install's age",
        "last_seen": "UTC day of the latest report",
    },
    "pulpanalytics_report": {
        "id": "primary key",
        "system_id": "the registry row (System.id) that sent it, not the installation's id",
        "day": "UTC day the report was received (server clock)",
        "age_days": "days since first_seen, for the day's statistics",
        "data": "the report's numbers: workers, content apps, PostgreSQL version, RBAC counts",
    },
    "pulpanalytics_component": {
        "id": "primary key",
        "report_id": "the report it belongs to",
        "day": "copy of the report's day",
        "age_days": "copy of the report's age_days",
        "name": "plugin label (core, rpm, ...)",
        "version": "plugin version",
    },
    "pulpanalytics_dailysummary": {
        "id": "primary key",
        "date": "the UTC day summarized",
        "json": "the day's Summary (summary.proto): counts only, no system ids",
        "computed_at": "when summarize stored it (cache validators of the API)",
        "points_revision": "which code and PUBLIC_MIN_COUNT made the day's chart points",
        "source": "summarize (made here) or upstream (imported from the old site)",
    },
    "pulpanalytics_chartpoint": {
        "id": "primary key",
        "summary_id": "the summary it was taken from",
        "date": "copy of the summary's date",
        "chart": "an over-time chart's name",
        "params": "the chart's own parameters (a component name, a mode)",
        "point": "the day's value of each of the chart's datasets: counts, shares, averages",
    },
    "pulpanalytics_alert": {
        "id": "primary key",
        "date": "the summarized day the watchdog found it in",
        "kind": "reports_drop or version_drop",
        "message": "what it found: counts over the whole fleet or a core release, never a system",
        "found_at": "when summarize found it",
    },
    "pulpanalytics_datafile": {
        "id": "primary key",
        "name": "the file's name under /data/",
        "content": "the file: public summaries or chart data, as the API serves them",
        "content_type": "its media type",
        "size": "its length in bytes",
        "etag": "a hash of its bytes (the cache validator)",
        "made_at": "when summarize made it (Last-Modified)",
        "made_from": "the summaries' version and the settings it was made with",
        "summaries": "how many days it holds",
        "first_day": "its first day",
        "last_day": "its last day",
    },
    "pulpanalytics_systemmonth": {
        "id": "primary key",
        "system_id": "the registry row (System.id), not the installation's id",
        "month": "a UTC month the system reported in",
        "days": "which days of that month it reported on (a bitmask): cohorts, returning",
    },
    "pulpanalytics_erasure": {
        "id": "primary key",
        "done_at": "when forget_system deleted systems (no ids): versions the cohorts",
        "systems": "how many it deleted",
    },
    "pulpanalytics_cache": {
        "cache_key": "Django's database cache: no counter or address since migration 0009",
        "value": "the cached value",
        "expires": "when it expires",
    },
    "pulpanalytics_limitcounter": {
        "key": "rate-limit counter: scope, window and a keyed hash of the client address",
        "count": "the counter",
        "expires": "end of the counter's window; purged after it",
    },
}
# Django's own tables: about staff, not about installations.
DJANGO_TABLES = {
    "auth_user": "staff accounts",
    "auth_group": "staff groups",
    "auth_permission": "permissions",
    "auth_group_permissions": "permissions of groups",
    "auth_user_groups": "groups of staff",
    "auth_user_user_permissions": "permissions of staff",
    "django_admin_log": "what staff changed in the admin",
    "django_content_type": "model registry",
    "django_session": "staff login sessions",
    "django_migrations": "applied migrations",
}


@pytest.mark.django_db
def test_every_stored_column_has_a_purpose():
    in_database = set(connection.introspection.table_names())
    assert in_database == set(OUR_COLUMNS) | set(DJANGO_TABLES)
    for model in apps.get_app_config("pulpanalytics").get_models():
        columns = [field.column for field in model._meta.concrete_fields]
        assert sorted(columns) == sorted(OUR_COLUMNS[model._meta.db_table]), model
    with connection.cursor() as cursor:
        for table, documented in OUR_COLUMNS.items():
            described = connection.introspection.get_table_description(cursor, table)
            assert sorted(column.name for column in described) == sorted(documented), table
    assert all(purpose for columns in OUR_COLUMNS.values() for purpose in columns.values())


# H5: forget a system on request.


@pytest.fixture
def two_systems(post_report, telemetry) -> None:
    import datetime as dt

    import time_machine

    for day in (1, 2):
        with time_machine.travel(dt.datetime(2026, 3, day, 9, tzinfo=dt.UTC), tick=False):
            post_report(telemetry(FIRST, components={"core": "3.45.2", "rpm": "3.26.1"}))
            post_report(telemetry(SECOND, components={"core": "3.44.0"}))


def held_for(system_id: str) -> tuple[int, int, int]:
    system_hash = hash_system_id(system_id)
    return (
        System.objects.filter(system_hash=system_hash).count(),
        Report.objects.filter(system__system_hash=system_hash).count(),
        Component.objects.filter(report__system__system_hash=system_hash).count(),
    )


@pytest.mark.django_db
def test_forget_system_deletes_every_row_of_one_system_and_no_other(two_systems, capsys):
    assert held_for(FIRST) == (1, 2, 4)
    call_command("forget_system", FIRST.upper())
    assert capsys.readouterr().out == "Forgot 1 system, 2 reports, 4 components\n"
    assert held_for(FIRST) == (0, 0, 0)
    assert held_for(SECOND) == (1, 2, 2)


@pytest.mark.django_db
def test_forget_system_takes_the_hash_the_admin_shows(two_systems, capsys):
    call_command("forget_system", hash_system_id(SECOND))
    assert capsys.readouterr().out == "Forgot 1 system, 2 reports, 2 components\n"
    assert held_for(SECOND) == (0, 0, 0)
    assert held_for(FIRST) == (1, 2, 4)


@pytest.mark.django_db
def test_forget_system_of_an_unknown_id_succeeds_with_nothing_to_do(two_systems, capsys):
    call_command("forget_system", "cccccccc-cccc-4ccc-8ccc-cccccccccccc")
    assert capsys.readouterr().out == "Forgot 0 systems, 0 reports, 0 components\n"
    assert Report.objects.count() == 4


@pytest.mark.django_db
def test_forget_system_refuses_what_is_neither_an_id_nor_a_hash(two_systems):
    with pytest.raises(CommandError, match="'abc' is neither a system_id"):
        call_command("forget_system", "abc")
    assert Report.objects.count() == 4


@pytest.mark.django_db
def test_the_admin_action_forgets_the_selected_systems(two_systems, client):
    User.objects.create_superuser("staff", "staff@example.org", "pw")
    client.login(username="staff", password="pw")
    first = System.objects.get(system_hash=hash_system_id(FIRST))
    response = client.post(
        "/admin/pulpanalytics/system/",
        {"action": "forget", "_selected_action": [first.pk]},
        follow=True,
    )
    assert "Forgot 1 system, 2 reports, 4 components." in response.content.decode()
    assert held_for(FIRST) == (0, 0, 0)
    assert held_for(SECOND) == (1, 2, 2)


@pytest.mark.django_db
def test_staff_without_the_delete_permission_cannot_forget(two_systems, client):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_system"))
    client.login(username="viewer", password="pw")
    listing = client.get("/admin/pulpanalytics/system/")
    assert listing.status_code == 200
    # The only action needs the permission, so the list shows no action form at all.
    assert listing.context["action_form"] is None
    assert "Forget the selected systems" not in listing.content.decode()
    first = System.objects.get(system_hash=hash_system_id(FIRST))
    client.post(
        "/admin/pulpanalytics/system/", {"action": "forget", "_selected_action": [first.pk]}
    )
    assert held_for(FIRST) == (1, 2, 4)


# H1: after traffic through a real gunicorn, no address in the database or the logs.

IP_CANDIDATE_RE = re.compile(r"[0-9A-Fa-f:.]{7,45}")
PROXY_PEER = "127.0.0.2"  # the "router": the TCP peer of every request
CLIENTS = ["203.0.113.9", "198.51.100.23", "2001:db8:5:6::17"]  # what the router saw


def addresses_in(text: str) -> set[str]:
    found = set()
    for candidate in IP_CANDIDATE_RE.findall(text):
        # As found, and without trailing punctuation ("sent 203.0.113.9." or "2001:db8::").
        for token in {candidate, candidate.rstrip(".:")}:
            if token.count(".") == 3 or token.count(":") >= 2:
                try:
                    found.add(str(ipaddress.ip_address(token)))
                except ValueError:
                    continue
    return found


def database_text() -> str:
    """Every value of every column of every table, as text; cache values decoded first."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                chunks.append(repr(row))
                if table == "pulpanalytics_cache":
                    # Values are base64 of a pickle: look inside as well.
                    chunks.append(repr(base64.b64decode(row[1])))
    return "\n".join(chunks)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_no_client_address_is_stored_or_logged(gunicorn_factory, telemetry):
    server = gunicorn_factory(
        workers=1,
        TRUSTED_PROXY_COUNT="1",
        REPORT_RATE_LIMIT="6",
        NEW_SYSTEM_RATE_LIMIT="2",
        ADMIN_LOGIN_FAILURE_LIMIT="1",
    )
    statuses = []
    try:
        for index, client_address in enumerate(CLIENTS):
            # The client's own header plus what the router appends.
            forwarded = {"X-Forwarded-For": f"192.0.2.77, {client_address}"}
            bodies = [
                telemetry(f"{index:08x}-1111-4111-8111-111111111111"),
                telemetry(f"{index:08x}-1111-4111-8111-111111111111"),  # duplicate
                telemetry(f"{index:08x}-2222-4222-8222-222222222222"),
                telemetry(f"{index:08x}-3333-4333-8333-333333333333"),  # new-system limit
                b"\xff not protobuf",
                telemetry(f"{index:08x}-4444-4444-8444-444444444444", components={"core": "main"}),
                b"x",  # the report limit
            ]
            for body in bodies:
                statuses.append(server.post(body, headers=forwarded, source=PROXY_PEER).status)
            for _ in range(2):
                login = server.request(
                    "POST", "/admin/login/", b"username=a&password=b",
                    headers={**forwarded, "Content-Type": "application/x-www-form-urlencoded"},
                    source=PROXY_PEER,
                )  # fmt: skip
                statuses.append(login.status)
            statuses.append(server.request("GET", "/nowhere/", headers=forwarded).status)
    finally:
        server.stop()
    stored_text, log = database_text(), log_without_bind(server.log())
    try:
        record(
            "H1 addresses",
            f"{len(statuses)} requests from {len(CLIENTS)} client addresses via a proxy peer; "
            f"addresses found in the database: {sorted(addresses_in(stored_text))}, in the "
            f"gunicorn and app log (bind line aside): {sorted(addresses_in(log))}",
        )
        assert sorted(set(statuses)) == [200, 400, 403, 404, 429]
        assert "limit:reports:" in stored_text and "limit:login_failures:" in stored_text
        assert addresses_in(stored_text) == set()
        assert addresses_in(log) == set()
        for address in [PROXY_PEER, "192.0.2.77", *CLIENTS, "2001:db8:5:6::/64"]:
            assert address not in stored_text
            assert address not in log
    finally:
        LimitCounter.objects.all().delete()


def log_without_bind(log: str) -> str:
    # gunicorn names its own listening address once at start; no client is in that line.
    return "\n".join(line for line in log.splitlines() if "Listening at: " not in line)


def test_the_address_scan_finds_every_form_of_address_and_no_clock_time():
    text = (
        "[2026-03-01 12:00:05 +0000] peer 203.0.113.9 sent ::ffff:198.51.100.23, "
        "then 2001:db8:5:6::17; network 2001:db8:7:: too. version 3.45.2, date 2026-03-01"
    )
    assert addresses_in(text) == {
        "203.0.113.9",
        "::ffff:c633:6417",
        "2001:db8:5:6::17",
        "2001:db8:7::",
    }
