"""docs/reliability.md A6-A8, A10, A11, E1: the edges of the POST / contract, on a real database."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.http import HttpResponse
from django.test.client import FakePayload

from pulpanalytics.ingest import MAX_COMPONENTS
from pulpanalytics.models import Component, Report, System
from pulpanalytics.telemetry_pb2 import Telemetry
from tests.helpers import build_telemetry, row_counts, tag, varint

pytestmark = pytest.mark.django_db

SYSTEM = "44444444-4444-4444-8444-444444444444"


def answer(response: HttpResponse) -> tuple[int, str]:
    return response.status_code, response.content.decode()


# A6: an empty body, and the message whose every field holds its default value.


def test_ingest_rejects_an_empty_body_and_stores_nothing(post_report):
    assert answer(post_report(b"")) == (400, "empty body")
    assert row_counts() == (0, 0, 0)


def every_field_at_its_default(system_id: str) -> Telemetry:
    report = build_telemetry(system_id, components={}, workers=(0, 0), content_apps=(0, 0))
    report.postgresql_version = 0
    report.rbac_stats.SetInParent()
    for field in report.rbac_stats.DESCRIPTOR.fields:
        setattr(report.rbac_stats, field.name, 0)
    return report


def test_ingest_rejects_a_message_with_every_field_at_its_default(post_report):
    body = every_field_at_its_default("").SerializeToString()
    assert answer(post_report(body)) == (400, "system_id is not a UUID: ''")
    assert row_counts() == (0, 0, 0)


def test_ingest_stores_explicit_zeros_of_a_valid_report_as_sent(post_report):
    body = every_field_at_its_default(SYSTEM).SerializeToString()
    assert answer(post_report(body)) == (200, "stored")
    assert Report.objects.get().data == {
        "online_content_apps": {"processes": 0, "hosts": 0},
        "online_workers": {"processes": 0, "hosts": 0},
        "postgresql_version": 0,
        "rbac_stats": {
            "users": 0,
            "groups": 0,
            "domains": 0,
            "custom_access_policies": 0,
            "custom_roles": 0,
        },
    }
    assert row_counts() == (1, 1, 0)


# A7: Content-Type is ignored; a Content-Encoding other than identity is refused.


def test_ingest_accepts_a_post_without_any_content_type_header(client, telemetry):
    body = telemetry(SYSTEM)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": FakePayload(body),
    }
    response = client.request(**environ)
    assert "CONTENT_TYPE" not in response.wsgi_request.META
    assert answer(response) == (200, "stored")
    assert row_counts() == (1, 1, 2)


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "text/plain",
        "application/json",
        "application/x-protobuf; proto=pulpanalytics.Telemetry; charset=binary",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
    ],
)
def test_ingest_ignores_the_content_type(post_report, telemetry, content_type):
    response = post_report(telemetry(SYSTEM), CONTENT_TYPE=content_type)
    assert answer(response) == (200, "stored")
    assert row_counts() == (1, 1, 2)


@pytest.mark.parametrize("encoding", ["gzip", "br", "GZIP", "deflate", "identity, gzip"])
def test_ingest_refuses_a_content_encoding_with_415(post_report, telemetry, encoding):
    response = post_report(telemetry(SYSTEM), HTTP_CONTENT_ENCODING=encoding)
    assert answer(response) == (415, "Content-Encoding is not supported; send the plain body")
    assert row_counts() == (0, 0, 0)


def test_ingest_accepts_content_encoding_identity(post_report, telemetry):
    response = post_report(telemetry(SYSTEM), HTTP_CONTENT_ENCODING="identity")
    assert answer(response) == (200, "stored")


# A8: only GET, HEAD and POST exist on /.


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"])
def test_root_answers_405_with_allow_and_a_message_to_other_methods(client, telemetry, method):
    response = client.generic(method, "/", telemetry(SYSTEM), content_type="")
    assert answer(response) == (405, "method not allowed: use GET, HEAD or POST")
    assert response["Allow"] == "GET, HEAD, POST"
    assert row_counts() == (0, 0, 0)


def test_root_answers_head_like_get_without_a_body(client):
    get, head = client.get("/"), client.head("/")
    assert (get.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]


# A10: the semantic validation table. Our Telemetry has no enum fields and no client timestamp
# (the server's clock alone picks the day: see the E1 tests below), so those plan rows are void.


def with_field(body: bytes, field: int, wire_type: int, payload: bytes) -> bytes:
    return body + tag(field, wire_type) + payload


VALIDATION_TABLE = [
    # (id, body builder, status, message, rows after)
    ("uuid lower case", lambda: build_telemetry(SYSTEM), 200, "stored", (1, 1, 2)),
    ("uuid upper case", lambda: build_telemetry(SYSTEM.upper()), 200, "stored", (1, 1, 2)),
    (
        "uuid v7",
        lambda: build_telemetry("01890a5d-ac96-774b-bcce-b302099a8057"),
        200,
        "stored",
        (1, 1, 2),
    ),
    (
        "nil uuid",
        lambda: build_telemetry("00000000-0000-0000-0000-000000000000"),
        400,
        "system_id is not a UUID: '00000000-0000-0000-0000-000000000000'",
        (0, 0, 0),
    ),
    (
        "urn form",
        lambda: build_telemetry("urn:uuid:" + SYSTEM),
        400,
        f"system_id is not a UUID: 'urn:uuid:{SYSTEM}'",
        (0, 0, 0),
    ),
    (
        "uuid one digit short",
        lambda: build_telemetry(SYSTEM[:-1]),
        400,
        f"system_id is not a UUID: '{SYSTEM[:-1]}'",
        (0, 0, 0),
    ),
    (
        # The message quotes at most 64 characters of what was sent.
        "system_id of 10,000 characters",
        lambda: build_telemetry("x" * 10_000),
        400,
        "system_id is not a UUID: '" + "x" * 64 + "'",
        (0, 0, 0),
    ),
    (
        "name of 100 characters",
        lambda: build_telemetry(SYSTEM, components={"n" * 100: "1.0.0"}),
        200,
        "stored",
        (1, 1, 1),
    ),
    (
        "name of 101 characters",
        lambda: build_telemetry(SYSTEM, components={"n" * 101: "1.0.0"}),
        400,
        "components[0] name or version longer than 100 characters",
        (0, 0, 0),
    ),
    (
        "NUL in a version",
        lambda: build_telemetry(SYSTEM, components={"core": "3.45.\x002"}),
        400,
        "components[0].version '3.45.\\x002' has whitespace or control characters",
        (0, 0, 0),
    ),
    (
        "the most components accepted",
        lambda: build_telemetry(
            SYSTEM, components={f"plugin{i}": "1.0.0" for i in range(MAX_COMPONENTS)}
        ),
        200,
        "stored",
        (1, 1, MAX_COMPONENTS),
    ),
    (
        "one component too many",
        lambda: build_telemetry(
            SYSTEM, components={f"plugin{i}": "1.0.0" for i in range(MAX_COMPONENTS + 1)}
        ),
        400,
        f"{MAX_COMPONENTS + 1} components; at most {MAX_COMPONENTS} are accepted",
        (0, 0, 0),
    ),
]


@pytest.mark.parametrize(
    ("build", "status", "message", "after"),
    [case[1:] for case in VALIDATION_TABLE],
    ids=[case[0] for case in VALIDATION_TABLE],
)
def test_ingest_validation_table(post_report, build, status, message, after):
    assert answer(post_report(build().SerializeToString())) == (status, message)
    assert row_counts() == after


def test_ingest_stores_a_count_beyond_uint32_as_protobuf_decodes_it(post_report, telemetry):
    # proto2 decodes a 64-bit varint into a uint32 field by keeping the low 32 bits, as every
    # protobuf implementation does; the report is valid on the wire and stored as decoded.
    body = with_field(telemetry(SYSTEM), 5, 0, varint(2**32 + 5))
    assert answer(post_report(body)) == (200, "stored")
    assert Report.objects.get().data == {"postgresql_version": 5}


def test_ingest_treats_a_known_field_with_the_wrong_wire_type_as_unknown(post_report, telemetry):
    # Field 5 (postgresql_version, a varint) sent as fixed32: skipped like an unknown field.
    body = with_field(telemetry(SYSTEM), 5, 5, b"\x01\x00\x00\x00")
    assert answer(post_report(body)) == (200, "stored")
    assert Report.objects.get().data == {}


@pytest.mark.parametrize("declared", ["²", "١٢", "-1", "1e3", " 12", "0x10", "12 ", "9" * 30])
def test_ingest_answers_400_to_a_content_length_that_is_not_a_plain_number(
    client, telemetry, declared
):
    body = telemetry(SYSTEM)
    response = client.generic("POST", "/", body, content_type="", CONTENT_LENGTH=declared)
    assert answer(response) == (400, "Content-Length is not a number")
    assert row_counts() == (0, 0, 0)


# A11: unknown fields anywhere are accepted and dropped; nothing of them is stored.

MARKER = b"unknown-field-marker"


def unknown_everywhere() -> bytes:
    unknown = tag(99, 2) + varint(len(MARKER)) + MARKER + tag(98, 0) + varint(7)
    group = tag(97, 3) + tag(1, 2) + varint(len(MARKER)) + MARKER + tag(97, 4)
    component = b"\x0a\x04core\x12\x063.45.2" + unknown
    workers = b"\x08\x04\x10\x02" + unknown
    rbac = b"\x08\x05" + unknown
    return (
        build_telemetry(SYSTEM, components={}).SerializeToString()
        + tag(4, 2) + varint(len(component)) + component
        + tag(3, 2) + varint(len(workers)) + workers
        + tag(6, 2) + varint(len(rbac)) + rbac
        + unknown
        + group
    )  # fmt: skip


def test_ingest_drops_unknown_fields_at_every_level_and_stores_none_of_them(post_report):
    assert answer(post_report(unknown_everywhere())) == (200, "stored")
    report = Report.objects.get()
    assert report.data == {
        "online_workers": {"processes": 4, "hosts": 2},
        "rbac_stats": {"users": 5},
    }
    assert list(Component.objects.values_list("name", "version")) == [("core", "3.45.2")]
    with connection.cursor() as cursor:
        for table in (System, Report, Component):
            cursor.execute(f"SELECT * FROM {table._meta.db_table}")  # noqa: S608
            text = repr(cursor.fetchall())
            assert MARKER.decode() not in text


# E1: the server's UTC clock alone picks the day, whatever TIME_ZONE says.


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_ingest_puts_reports_either_side_of_utc_midnight_on_consecutive_days(
    post_report, telemetry, settings, zone
):
    settings.TIME_ZONE = zone
    last = dt.datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=dt.UTC)
    for moment in (last, last + dt.timedelta(microseconds=1)):
        with time_machine.travel(moment, tick=False):
            assert answer(post_report(telemetry(SYSTEM))) == (200, "stored")
    days = list(Report.objects.order_by("day").values_list("day", flat=True))
    assert days == [dt.date(2026, 3, 1), dt.date(2026, 3, 2)]
