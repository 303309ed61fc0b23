"""Ingest: bytes -> validated Telemetry -> raw rows and registry update, in one transaction.

The POST view and the demo fleet both write through `ingest()`; there is no second way in.
"""

import json
import logging
import re
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from google.protobuf.message import DecodeError, Message

from pulpanalytics.days import as_date, utc_date
from pulpanalytics.limits import (
    NEW_SYSTEMS,
    REPORTS,
    ClientLimit,
    DatabaseCounter,
    counts_in_database,
    purge_expired_counters,
)
from pulpanalytics.models import Component, Report, System, SystemMonth
from pulpanalytics.plausible import implausible_fields, is_clean_version, is_plugin_label
from pulpanalytics.system_ids import canonical_system_id, hash_system_id
from pulpanalytics.telemetry_pb2 import Telemetry

logger = logging.getLogger(__name__)

# pulpcore sends GA builds (three all-digit parts) to production, everything else to the dev site.
# Matched with fullmatch: "$" would also match before a final newline ("3.49.1\n").
GA_VERSION_RE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
MAX_NAME_LENGTH = Component._meta.get_field("name").max_length
MAX_VERSION_LENGTH = Component._meta.get_field("version").max_length
# pulpcore has about 30 plugins; a report listing hundreds is an attempt to fill the tables.
MAX_COMPONENTS = 200


# The ORM has no INSERT ... ON CONFLICT ... RETURNING; both backends speak this SQL as written.
# Identifiers come from our own models, values are bound parameters.
_SYSTEM, _REPORT = System._meta.db_table, Report._meta.db_table
_COMPONENT, _MONTH = Component._meta.db_table, SystemMonth._meta.db_table
UPSERT_SYSTEM_SQL = (
    f'INSERT INTO "{_SYSTEM}" (system_hash, first_seen, last_seen) VALUES (%s, %s, %s) '  # noqa: S608
    f'ON CONFLICT (system_hash) DO UPDATE SET last_seen = CASE WHEN "{_SYSTEM}".last_seen '
    f'< excluded.last_seen THEN excluded.last_seen ELSE "{_SYSTEM}".last_seen END '
    "RETURNING id, first_seen"
)
INSERT_REPORT_SQL = (
    f'INSERT INTO "{_REPORT}" (system_id, day, age_days, data) VALUES (%s, %s, %s, %s) '  # noqa: S608
    "ON CONFLICT (system_id, day) DO NOTHING RETURNING id"
)
# The day's bit in the system's month (cohorts, returning): OR is idempotent, so no read first,
# and a same-day repeat (rolled back anyway) would change nothing.
UPSERT_MONTH_SQL = (
    f'INSERT INTO "{_MONTH}" (system_id, month, days) VALUES (%s, %s, %s) '  # noqa: S608
    f'ON CONFLICT (system_id, month) DO UPDATE SET days = "{_MONTH}".days | excluded.days'
)
# PostgreSQL runs a data-modifying WITH exactly once, whatever the INSERT after it does: the
# month goes with the report in one round trip (SQLite has no such WITH: two statements).
INSERT_MONTH_AND_REPORT_SQL = f"WITH kept_month AS ({UPSERT_MONTH_SQL}) {INSERT_REPORT_SQL}"
# One multi-row INSERT for all components: the ORM's bulk_create costs more CPU than the rest.
INSERT_COMPONENTS_SQL = (
    f'INSERT INTO "{_COMPONENT}" (report_id, day, age_days, name, version) VALUES '  # noqa: S608
)
# PostgreSQL: the steps above and the limits' counts in one call (migration 0011). Its answer is
# the report's age in days, NULL for a same-day repeat, -1 for a new system the client's limit
# refused, -2 for a request over the client's report limit.
STORE_REPORT_CALL = (
    "SELECT pulpanalytics_store_report(%s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s)"
)
NEW_SYSTEM_REFUSED, REQUESTS_REFUSED = -1, -2


@dataclass(frozen=True)
class Outcome:
    """What happened to one report: the HTTP answer and a short reason for logs and counters."""

    kind: str  # stored | duplicate | ignored | rejected | limited
    status: int
    message: str
    reason: str = ""
    new_system: bool = False  # stored, and the registry saw this system for the first time
    retry_after: int = 0  # limited: seconds until the client may try again
    # stored: the fields kept as sent but left out of the statistics (plausible.py)
    implausible: tuple[str, ...] = ()


STORED = Outcome("stored", 200, "stored")
NEW_SYSTEM_STORED = Outcome("stored", 200, "stored", new_system=True)
DUPLICATE = Outcome("duplicate", 200, "duplicate: already received today")


class InvalidReport(Exception):
    """The body is not an acceptable report; `reason` names the rule, `message` explains it."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class _Duplicate(Exception):
    """Raised inside the transaction to roll back the registry update of a repeated report."""


class _NotAdmitted(Exception):
    """Raised inside the transaction to roll back a new system the client may not add now."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def parse_report(body: bytes) -> Telemetry:
    """Decode and validate one report; raise InvalidReport saying exactly what is wrong."""
    if not body:
        raise InvalidReport("empty", "empty body")
    report = Telemetry()
    try:
        report.ParseFromString(body)
    except (DecodeError, RuntimeError, ValueError) as error:
        # RuntimeError: upb's "recursion depth exceeded" for absurdly nested groups.
        raise InvalidReport(
            "undecodable", f"body is not a Telemetry protobuf message: {error}"
        ) from None
    missing = report.FindInitializationErrors()
    if missing:
        raise InvalidReport("missing_field", "missing required field: " + ", ".join(missing))
    # proto2 strings are not UTF-8 checked by upb: a bad one comes back as bytes.
    if not isinstance(report.system_id, str):
        raise InvalidReport("bad_system_id", "system_id is not valid UTF-8")
    if canonical_system_id(report.system_id) is None:
        raise InvalidReport("bad_system_id", f"system_id is not a UUID: {report.system_id[:64]!r}")
    if len(report.components) > MAX_COMPONENTS:
        raise InvalidReport(
            "too_many_components",
            f"{len(report.components)} components; at most {MAX_COMPONENTS} are accepted",
        )
    seen: set[str] = set()
    for index, component in enumerate(report.components):
        name, version = component.name, component.version
        if not isinstance(name, str) or not isinstance(version, str):
            raise InvalidReport("bad_component", f"components[{index}] is not valid UTF-8")
        if not name:
            raise InvalidReport("bad_component", f"components[{index}].name is empty")
        if len(name) > MAX_NAME_LENGTH or len(version) > MAX_VERSION_LENGTH:
            raise InvalidReport(
                "bad_component",
                f"components[{index}] name or version longer than {MAX_VERSION_LENGTH} characters",
            )
        if not is_plugin_label(name):
            # Names reach URLs, pages and CSV files: only what pulpcore sends, a plugin label.
            raise InvalidReport(
                "bad_component",
                f"components[{index}].name {name[:64]!r} is not a plugin label "
                "(a lower-case letter, then lower-case letters, digits or '_'; not 'other')",
            )
        if not is_clean_version(version):
            raise InvalidReport(
                "bad_component",
                f"components[{index}].version {version[:64]!r} has whitespace or control "
                "characters",
            )
        if name in seen:
            raise InvalidReport("duplicate_component", f"component {name[:64]!r} appears twice")
        seen.add(name)
    return report


def development_version(report: Telemetry) -> tuple[str, str] | None:
    """The first component whose version is not a GA x.y.z, if any."""
    for component in report.components:
        if not GA_VERSION_RE.fullmatch(component.version):
            return component.name, component.version
    return None


def report_data(report: Telemetry) -> dict:
    """The report's numbers as stored in Report.data: every field but system_id and components."""
    data = fields_set(report)
    data.pop("system_id", None)
    data.pop("components", None)
    return data


def fields_set(message: Message) -> dict:
    """The fields set in a message by their .proto names, sub-messages as dicts: what
    json_format.MessageToDict(preserving_proto_field_name=True) gives for telemetry.proto's
    numbers, strings and messages, at a tenth of its cost (tests/test_ingest.py compares them)."""
    found = {}
    for field, value in message.ListFields():
        if field.message_type is None:
            found[field.name] = list(value) if field.is_repeated else value
        elif field.is_repeated:
            found[field.name] = [fields_set(item) for item in value]
        else:
            found[field.name] = fields_set(value)
    return found


def insert_components(
    cursor: CursorWrapper,
    report_id: int,
    day: date,
    age_days: int,
    components: list[Telemetry.Component],
) -> None:
    if not components:
        return
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(components))
    cursor.execute(
        INSERT_COMPONENTS_SQL + values,
        [value for c in components for value in (report_id, day, age_days, c.name, c.version)],
    )


def day_bit(day: date) -> int:
    """The bit of `day` in SystemMonth.days."""
    return 1 << (day.day - 1)


def store_report(*, report: Telemetry, day: date, client: str | None = None) -> Outcome:
    """Count and write a validated report for `day`: registry, activity, raw row, components;
    all or nothing.

    With a `client` (its address), the request is counted against the client's report limit and
    a report that makes a new system against its new-system limit, in the same transaction: a
    refusal writes nothing, so concurrent requests cannot store more than the limits allow.
    On PostgreSQL with the limits counting in the database (the default) all of it is one call
    of the function of migration 0011; elsewhere the same steps as separate statements.
    """
    if connection.vendor == "postgresql" and (client is None or counts_in_database()):
        return _store_in_one_call(report, day, client)
    return _store_in_steps(report, day, client)


def _store_in_one_call(report: Telemetry, day: date, client: str | None) -> Outcome:
    requests = REPORTS.of(client).database_counter() if client is not None else None
    new_systems = NEW_SYSTEMS.of(client).database_counter() if client is not None else None
    data = report_data(report)
    # Alone, the call is its own transaction. Inside a caller's transaction a savepoint keeps a
    # failed call from spoiling it, as transaction.atomic does for the steps.
    within = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with within, connection.cursor() as cursor:
        cursor.execute(
            STORE_REPORT_CALL,
            [
                hash_system_id(report.system_id),
                day,
                json.dumps(data),
                [component.name for component in report.components],
                [component.version for component in report.components],
                *_counter_arguments(requests),
                *_counter_arguments(new_systems),
            ],
        )
        (age_days,) = cursor.fetchone()
    if not connection.in_atomic_block:
        purge_expired_counters()
    if age_days is None:
        return DUPLICATE
    if age_days == REQUESTS_REFUSED:
        return _reports_limited(requests.seconds_left)
    if age_days == NEW_SYSTEM_REFUSED:
        return _new_systems_limited(new_systems.seconds_left)
    return _stored(new_system=age_days == 0, data=data)


def _counter_arguments(counter: DatabaseCounter | None) -> tuple:
    return (counter.key, counter.expires, counter.limit) if counter else (None, None, None)


def _store_in_steps(report: Telemetry, day: date, client: str | None) -> Outcome:
    new_systems = None
    if client is not None:
        # One round trip counts the request and reads the client's count of new systems.
        counted = REPORTS.hit_and_peek(client, NEW_SYSTEMS)
        if counted.wait:
            return _reports_limited(counted.wait)
        new_systems = counted.peeked
        # The limit is used up already: refuse an unknown system without writing anything (an
        # id spray costs two reads a request). The count that decides is in the transaction.
        if (seconds := new_systems.wait()) and not System.objects.filter(
            system_hash=hash_system_id(report.system_id)
        ).exists():
            return _new_systems_limited(seconds)
    try:
        with transaction.atomic():
            return _store_steps(report, day, new_systems)
    except _Duplicate:
        return DUPLICATE
    except _NotAdmitted as refused:
        return _new_systems_limited(refused.seconds)


def _store_steps(report: Telemetry, day: date, new_systems: ClientLimit | None) -> Outcome:
    """The steps of `store_report` inside its transaction. ON CONFLICT makes the same-day race
    safe: of two concurrent first reports, the second waits for the first one's unique index
    entry and then inserts nothing. A refused new system rolls its own count back."""
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_SYSTEM_SQL, [hash_system_id(report.system_id), day, day])
        system_pk, first_seen = cursor.fetchone()
        age_days = max((day - as_date(first_seen)).days, 0)
        data = report_data(report)
        month = [system_pk, day.replace(day=1), day_bit(day)]
        values = [system_pk, day, age_days, json.dumps(data)]
        if connection.vendor == "postgresql":
            cursor.execute(INSERT_MONTH_AND_REPORT_SQL, month + values)
        else:
            cursor.execute(UPSERT_MONTH_SQL, month)
            cursor.execute(INSERT_REPORT_SQL, values)
        row = cursor.fetchone()
        if row is None:
            raise _Duplicate
        # A stored first report of the day at age 0: the registry row was made by this report.
        new_system = age_days == 0
        if new_system and new_systems is not None and (seconds := new_systems.hit()):
            raise _NotAdmitted(seconds)
        insert_components(cursor, row[0], day, age_days, list(report.components))
    return _stored(new_system=new_system, data=data)


def _stored(*, new_system: bool, data: dict) -> Outcome:
    outcome = NEW_SYSTEM_STORED if new_system else STORED
    implausible = tuple(implausible_fields(data))
    return replace(outcome, implausible=implausible) if implausible else outcome


def ingest(*, body: bytes, received_at: datetime, client: str | None = None) -> Outcome:
    """Everything a POST of `body` at `received_at` (aware) does; the answer for the client.

    With a `client` (its address), every request counts against the client's report limit
    (REPORT_RATE_LIMIT) and a system the registry does not know yet against its new-system
    limit; over either, nothing is stored and the answer is 429. Known systems go on as usual.
    """
    try:
        report = parse_report(body)
    except InvalidReport as invalid:
        return count_request(client) or Outcome("rejected", 400, invalid.message, invalid.reason)
    dev = development_version(report)
    if dev is not None and not settings.COLLECT_DEV_SYSTEMS:
        return count_request(client) or Outcome(
            "ignored", 200, f"ignored: development version {dev[0]} {dev[1]}", "dev"
        )
    return store_report(report=report, day=utc_date(received_at), client=client)


def count_request(client: str | None) -> Outcome | None:
    """Count a request that stores nothing against the client's report limit: the answer when
    it is over the limit, else None. A report to store is counted where it is stored."""
    if client is None:
        return None
    seconds = REPORTS.hit(client)
    return _reports_limited(seconds) if seconds else None


def _reports_limited(seconds: int) -> Outcome:
    return Outcome(
        "limited", 429, "too many reports from this address", "rate_limited", retry_after=seconds
    )


def _new_systems_limited(seconds: int) -> Outcome:
    return Outcome(
        "limited",
        429,
        "too many new systems from this address",
        "new_systems_limited",
        retry_after=seconds,
    )
