"""POST / : every answer of docs/design.md ("Answers"), on the real database."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.db.utils import DatabaseError
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from pulpanalytics import ingest
from pulpanalytics.models import Component, Report, System
from pulpanalytics.system_ids import hash_system_id
from pulpanalytics.telemetry_pb2 import Telemetry
from tests.helpers import assert_text, build_telemetry

pytestmark = pytest.mark.django_db

SYSTEM = "11111111-1111-4111-8111-111111111111"
DAY1 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)


def counts() -> tuple[int, int, int]:
    return System.objects.count(), Report.objects.count(), Component.objects.count()


def test_ingest_stores_a_report_and_answers_stored(post_report, telemetry):
    body = telemetry(
        SYSTEM,
        components={"core": "3.45.2", "rpm": "3.26.1"},
        workers=(4, 2),
        content_apps=(3, 1),
        postgresql_version=150004,
        rbac={
            "users": 5,
            "groups": 0,
            "domains": 1,
            "custom_access_policies": 2,
            "custom_roles": 3,
        },
    )
    with time_machine.travel(DAY1, tick=False):
        response = post_report(body)
    assert_text(response, 200, "stored")
    assert counts() == (1, 1, 2)
    system = System.objects.get()
    assert (system.first_seen, system.last_seen) == (dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    report = Report.objects.get()
    assert report.day == dt.date(2026, 3, 1)
    assert report.age_days == 0
    assert report.data == {
        "online_content_apps": {"processes": 3, "hosts": 1},
        "online_workers": {"processes": 4, "hosts": 2},
        "postgresql_version": 150004,
        "rbac_stats": {
            "users": 5,
            "groups": 0,
            "domains": 1,
            "custom_access_policies": 2,
            "custom_roles": 3,
        },
    }
    assert sorted(Component.objects.values_list("name", "version", "day", "age_days")) == [
        ("core", "3.45.2", dt.date(2026, 3, 1), 0),
        ("rpm", "3.26.1", dt.date(2026, 3, 1), 0),
    ]


def test_ingest_ignores_content_type(post_report, client, telemetry):
    response = client.post("/", telemetry(SYSTEM), content_type="application/json")
    assert_text(response, 200, "stored")


def test_ingest_stores_uint32_max_and_reads_it_back(post_report, telemetry):
    top = 4294967295
    body = telemetry(
        SYSTEM,
        workers=(top, top),
        content_apps=(top, top),
        postgresql_version=top,
        rbac={"users": top, "custom_roles": top},
    )
    assert_text(post_report(body), 200, "stored")
    data = Report.objects.get().data
    assert data["online_workers"] == {"processes": 4294967295, "hosts": 4294967295}
    assert data["online_content_apps"] == {"processes": 4294967295, "hosts": 4294967295}
    assert data["postgresql_version"] == 4294967295
    assert data["rbac_stats"] == {"users": 4294967295, "custom_roles": 4294967295}
    # The database itself must hand the value back intact, not just the JSON text.
    summed = Report.objects.values_list("data__postgresql_version", flat=True).get()
    assert summed == 4294967295


def test_ingest_keeps_present_zero_apart_from_absent(post_report, telemetry):
    body = telemetry(SYSTEM, workers=(0, None), rbac={"users": 0})
    assert_text(post_report(body), 200, "stored")
    data = Report.objects.get().data
    assert data == {"online_workers": {"processes": 0}, "rbac_stats": {"users": 0}}


def test_ingest_accepts_an_old_client_with_fields_one_to_four(post_report, telemetry):
    body = telemetry(SYSTEM, workers=(2, 1), content_apps=(1, 1))
    assert_text(post_report(body), 200, "stored")
    assert Report.objects.get().data == {
        "online_workers": {"processes": 2, "hosts": 1},
        "online_content_apps": {"processes": 1, "hosts": 1},
    }


def test_ingest_accepts_and_drops_an_unknown_field(post_report, telemetry):
    # Field 99, wire type 0 (varint 7) and field 100, length-delimited "future".
    body = telemetry(SYSTEM) + b"\x98\x06\x07" + b"\xa2\x06\x06future"
    assert_text(post_report(body), 200, "stored")
    assert Report.objects.get().data == {}
    assert counts() == (1, 1, 2)


def test_ingest_first_report_of_the_day_wins(post_report, telemetry):
    with time_machine.travel(DAY1, tick=False):
        assert_text(post_report(telemetry(SYSTEM, postgresql_version=150004)), 200, "stored")
    later = DAY1 + dt.timedelta(hours=11, minutes=59)
    with time_machine.travel(later, tick=False):
        second = post_report(telemetry(SYSTEM, components={"core": "3.46.0"}, postgresql_version=1))
    assert_text(second, 200, "duplicate: already received today")
    assert counts() == (1, 1, 2)
    assert Report.objects.get().data == {"postgresql_version": 150004}
    assert sorted(Component.objects.values_list("name", "version")) == [
        ("core", "3.45.2"),
        ("file", "1.2.3"),
    ]
    system = System.objects.get()
    assert (system.first_seen, system.last_seen) == (dt.date(2026, 3, 1), dt.date(2026, 3, 1))


def test_ingest_same_system_next_day_adds_a_row_and_moves_last_seen(post_report, telemetry):
    with time_machine.travel(DAY1, tick=False):
        assert_text(post_report(telemetry(SYSTEM)), 200, "stored")
    with time_machine.travel(DAY2, tick=False):
        assert_text(post_report(telemetry(SYSTEM, components={"core": "3.46.0"})), 200, "stored")
    assert counts() == (1, 2, 3)
    system = System.objects.get()
    assert (system.first_seen, system.last_seen) == (dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert list(Report.objects.order_by("day").values_list("day", "age_days")) == [
        (dt.date(2026, 3, 1), 0),
        (dt.date(2026, 3, 2), 1),
    ]


def test_ingest_day_boundary_is_utc_midnight(post_report, telemetry):
    last_moment = dt.datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=dt.UTC)
    with time_machine.travel(last_moment, tick=False):
        assert_text(post_report(telemetry(SYSTEM)), 200, "stored")
    with time_machine.travel(last_moment + dt.timedelta(microseconds=1), tick=False):
        assert_text(post_report(telemetry(SYSTEM)), 200, "stored")
    assert list(Report.objects.order_by("day").values_list("day", flat=True)) == [
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 2),
    ]


def test_ingest_canonicalizes_the_case_of_system_id(post_report, telemetry):
    assert_text(post_report(telemetry(SYSTEM.replace("1", "A").lower())), 200, "stored")
    upper = SYSTEM.replace("1", "A").upper()
    assert_text(post_report(telemetry(upper)), 200, "duplicate: already received today")
    assert counts() == (1, 1, 2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (
            b"\xff\xff\xff\xff garbage \x00\x01",
            "body is not a Telemetry protobuf message: Error parsing message with type "
            "'pulpanalytics.Telemetry': Wire format was corrupt",
        ),
    ],
    ids=["empty", "garbage"],
)
def test_ingest_rejects_bodies_that_are_not_reports(post_report, body, message):
    assert_text(post_report(body), 400, message)
    assert counts() == (0, 0, 0)


def test_ingest_rejects_truncated_protobuf(post_report, telemetry):
    body = telemetry(SYSTEM)
    half = body[: len(body) // 2]
    response = post_report(half)
    assert response.status_code == 400
    assert response.content.decode().startswith("body is not a Telemetry protobuf message")
    assert counts() == (0, 0, 0)


def test_ingest_rejects_a_system_id_that_is_not_a_uuid(post_report, telemetry):
    assert_text(post_report(telemetry("not-a-uuid")), 400, "system_id is not a UUID: 'not-a-uuid'")
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    "system_id",
    [
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "{11111111-1111-4111-8111-111111111111}",
        "11111111111141118111111111111111",
        " 11111111-1111-4111-8111-111111111111",
        "11111111-1111-4111-8111-11111111111g",
    ],
)
def test_ingest_rejects_unusable_uuid_forms(post_report, telemetry, system_id):
    response = post_report(telemetry(system_id))
    assert response.status_code == 400
    assert response.content.decode() == f"system_id is not a UUID: {system_id!r}"
    assert counts() == (0, 0, 0)


def test_ingest_rejects_a_missing_system_id(post_report):
    body = build_telemetry(SYSTEM)
    body.ClearField("system_id")
    assert_text(
        post_report(body.SerializePartialToString()), 400, "missing required field: system_id"
    )
    assert counts() == (0, 0, 0)


def test_ingest_rejects_a_component_without_version(post_report):
    # Field 4 (components) holding only field 1 (name "core").
    body = build_telemetry(SYSTEM, components={}).SerializeToString() + b"\x22\x06\x0a\x04core"
    assert_text(post_report(body), 400, "missing required field: components[0].version")
    assert counts() == (0, 0, 0)


def test_ingest_rejects_a_component_named_twice(post_report, telemetry):
    body = telemetry(SYSTEM, components=[("core", "3.45.2"), ("rpm", "3.1.0"), ("core", "3.45.2")])
    assert_text(post_report(body), 400, "component 'core' appears twice")
    assert counts() == (0, 0, 0)


def test_ingest_rejects_an_empty_component_name(post_report, telemetry):
    assert_text(
        post_report(telemetry(SYSTEM, components={"": "1.0.0"})), 400, "components[0].name is empty"
    )
    assert counts() == (0, 0, 0)


def test_ingest_rejects_invalid_utf8_in_a_string(post_report):
    body = b"\x0a\x24" + b"\xff" * 36
    assert_text(post_report(body), 400, "system_id is not valid UTF-8")
    assert counts() == (0, 0, 0)


def test_ingest_rejects_an_overlong_version(post_report, telemetry):
    body = telemetry(SYSTEM, components={"core": "3." * 60 + "1"})
    assert_text(post_report(body), 400, "components[0] name or version longer than 100 characters")
    assert counts() == (0, 0, 0)


def test_ingest_accepts_a_body_exactly_at_the_cap(post_report, settings, telemetry):
    body = telemetry(SYSTEM)
    settings.MAX_REPORT_BYTES = len(body)
    assert_text(post_report(body), 200, "stored")


def test_ingest_rejects_a_body_one_byte_over_the_cap(post_report, settings, telemetry):
    body = telemetry(SYSTEM)
    settings.MAX_REPORT_BYTES = len(body) - 1
    assert_text(post_report(body), 413, f"report larger than {len(body) - 1} bytes")
    assert counts() == (0, 0, 0)


def test_ingest_default_cap_is_65536_bytes(post_report, telemetry):
    padding = b"\xa2\x06" + b"\x80\x80\x04" + b"x" * 65536  # unknown field 100, 65536 bytes long
    response = post_report(telemetry(SYSTEM) + padding)
    assert_text(response, 413, "report larger than 65536 bytes")
    assert counts() == (0, 0, 0)


def test_ingest_ignores_development_versions_on_the_production_site(post_report, telemetry):
    body = telemetry(SYSTEM, components={"core": "3.45.0.dev", "rpm": "main"})
    assert_text(post_report(body), 200, "ignored: development version core 3.45.0.dev")
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("version", ["3.45", "3.45.2a1", "v3.45.2", "3.45.2.", "٣.٤.٥", ""])
def test_ingest_treats_every_non_ga_version_as_development(post_report, telemetry, version):
    response = post_report(telemetry(SYSTEM, components={"core": "3.45.2", "rpm": version}))
    assert_text(response, 200, f"ignored: development version rpm {version}")
    assert counts() == (0, 0, 0)


def test_ingest_stores_development_versions_on_the_dev_site(post_report, settings, telemetry):
    settings.COLLECT_DEV_SYSTEMS = True
    body = telemetry(SYSTEM, components={"core": "3.45.0.dev", "rpm": "main"})
    assert_text(post_report(body), 200, "stored")
    assert sorted(Component.objects.values_list("name", "version")) == [
        ("core", "3.45.0.dev"),
        ("rpm", "main"),
    ]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_root_refuses_other_methods(client, method):
    response = client.generic(method, "/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert counts() == (0, 0, 0)


def test_root_answers_get_and_head(client):
    assert client.get("/").status_code == 200
    assert client.head("/").status_code == 200


def test_ingest_rejects_content_encoding(post_report, telemetry):
    response = post_report(telemetry(SYSTEM), HTTP_CONTENT_ENCODING="gzip")
    assert_text(response, 415, "Content-Encoding is not supported; send the plain body")
    assert counts() == (0, 0, 0)


def test_ingest_requires_content_length(rf, telemetry):
    from pulpanalytics.views import root

    request = rf.generic("POST", "/", telemetry(SYSTEM), content_type="")
    del request.META["CONTENT_LENGTH"]
    assert_text(root(request), 411, "Content-Length required")
    assert counts() == (0, 0, 0)


# Refuses a component named "rpm" after the rows before it in the same statement were written:
# a failure halfway through a report, made by the database itself on either backend.
REFUSE_RPM = {
    "sqlite": [
        "CREATE TRIGGER refuse_rpm BEFORE INSERT ON pulpanalytics_component "
        "WHEN NEW.name = 'rpm' BEGIN SELECT RAISE(ABORT, 'forced failure at rpm'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_rpm() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.name = 'rpm' THEN RAISE EXCEPTION 'forced failure at rpm'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse_rpm BEFORE INSERT ON pulpanalytics_component "
        "FOR EACH ROW EXECUTE FUNCTION refuse_rpm()",
    ],
}


def test_a_report_is_all_or_nothing(post_report, telemetry):
    with time_machine.travel(DAY1, tick=False):
        assert_text(post_report(telemetry(SYSTEM)), 200, "stored")
    with connection.cursor() as cursor:
        for statement in REFUSE_RPM[connection.vendor]:
            cursor.execute(statement)
    body = telemetry(SYSTEM, components={"core": "3.46.0", "rpm": "3.1.0"})
    with time_machine.travel(DAY2, tick=False), pytest.raises(DatabaseError, match="at rpm"):
        ingest.ingest(body=body, received_at=DAY2)
    # Nothing of DAY2: no report, no component (core came before rpm), no new last_seen.
    assert counts() == (1, 1, 2)
    system = System.objects.get()
    assert (system.first_seen, system.last_seen) == (dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    assert list(Report.objects.values_list("day", flat=True)) == [dt.date(2026, 3, 1)]


def test_the_raw_system_id_is_stored_nowhere(post_report, telemetry):
    assert_text(post_report(telemetry(SYSTEM, rbac={"users": 1})), 200, "stored")
    needle = SYSTEM.replace("-", "")
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            description = connection.introspection.get_table_description(cursor, table)
            columns = [connection.ops.quote_name(column.name) for column in description]
            table_name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table_name}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    text = str(value).lower().replace("-", "")
                    if needle in text:
                        found.append((table, value))
    assert found == []
    assert System.objects.get().system_hash == hash_system_id(SYSTEM)
    assert len(System.objects.get().system_hash) == 64


def test_every_real_pulpcore_fixture_decodes_as_sent(pulpcore_reports):
    assert len(pulpcore_reports) == 40
    for fixture in pulpcore_reports:
        report = ingest.parse_report(bytes.fromhex(fixture["body_hex"]))
        fields = fixture["fields"]
        assert report.system_id == fields["system_id"]
        assert [(c.name, c.version) for c in report.components] == [
            (c["name"], c["version"]) for c in fields["components"]
        ]
        expected = {
            key: value for key, value in fields.items() if key not in {"system_id", "components"}
        }
        assert ingest.report_data(report) == expected


def test_every_real_pulpcore_fixture_is_stored(post_report, pulpcore_reports):
    for fixture in pulpcore_reports:
        assert_text(post_report(bytes.fromhex(fixture["body_hex"])), 200, "stored")
    expected_components = sum(len(f["fields"]["components"]) for f in pulpcore_reports)
    assert counts() == (40, 40, expected_components)
    with_rbac = Report.objects.filter(data__has_key="rbac_stats").count()
    assert with_rbac == 28
    assert Report.objects.filter(data__has_key="postgresql_version").count() == 32


def test_ingest_answers_503_when_the_database_is_down(post_report, telemetry, database_down):
    response = post_report(telemetry(SYSTEM))
    assert_text(response, 503, "service unavailable, try later")
    assert response["Retry-After"] == "60"


def _every_field_set(message: Message, number: int = 7) -> Message:
    """Set every field of a message (recursively) to a value: `number`, text or a sub-message."""
    for field in message.DESCRIPTOR.fields:
        if field.message_type is not None:
            target = getattr(message, field.name)
            sub = target.add() if field.is_repeated else target
            _every_field_set(sub, number + 1)
        elif field.type == FieldDescriptor.TYPE_STRING:
            value = f"{field.name}-{number}"
            if field.is_repeated:
                getattr(message, field.name).append(value)
            else:
                setattr(message, field.name, value)
        elif field.is_repeated:
            getattr(message, field.name).append(number)
        else:
            setattr(message, field.name, number)
    return message


def test_stored_numbers_are_what_protobuf_json_gives_for_every_telemetry_field():
    # report_data() reads the fields itself, faster than json_format; a field of a type it would
    # store otherwise (bytes, enums, 64-bit numbers) fails here when added to telemetry.proto.
    report = _every_field_set(Telemetry())
    expected = json_format.MessageToDict(report, preserving_proto_field_name=True)
    del expected["system_id"], expected["components"]
    assert ingest.report_data(report) == expected
    assert expected["rbac_stats"]["custom_roles"] == 8
    assert expected["postgresql_version"] == 7
