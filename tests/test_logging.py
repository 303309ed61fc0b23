"""Logs: one JSON object per line on stdout, a line per rejected report, no system id in it."""

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from app.log_format import JsonLineFormatter
from pulpanalytics.system_ids import hash_system_id
from tests.helpers import GOOD_KEY, refused, run_python

SYSTEM = "66666666-6666-4666-8666-666666666666"
OTHER = "77777777-7777-4777-8777-777777777777"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the configured stdout handler writes, copied to a buffer with the same formatter."""
    configured = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler.formatter, JsonLineFormatter)
    ]
    assert len(configured) == 1
    buffer = io.StringIO()
    copy = logging.StreamHandler(buffer)
    copy.setFormatter(configured[0].formatter)
    logging.getLogger().addHandler(copy)
    yield buffer
    logging.getLogger().removeHandler(copy)


def parsed(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.mark.django_db
def test_each_rejected_report_logs_one_json_line_with_its_reason_and_no_system_id(
    post_report, telemetry, log_lines
):
    assert post_report(telemetry("not-a-uuid-but-private")).status_code == 400
    twice = telemetry(SYSTEM, components=[("core", "3.45.2"), ("core", "3.45.2")])
    assert post_report(twice).status_code == 400
    assert post_report(telemetry(OTHER), HTTP_CONTENT_ENCODING="br").status_code == 415
    assert post_report(telemetry(OTHER)).status_code == 200
    entries = parsed(log_lines)
    assert [(e["logger"], e["level"], e["message"], e["reason"]) for e in entries] == [
        ("pulpanalytics.views", "INFO", "report rejected: bad_system_id", "bad_system_id"),
        (
            "pulpanalytics.views",
            "INFO",
            "report rejected: duplicate_component",
            "duplicate_component",
        ),
        ("pulpanalytics.views", "INFO", "report rejected: encoding", "encoding"),
    ]
    assert {entry["outcome"] for entry in entries} == {"rejected"}
    assert {entry["process"] for entry in entries} == {os.getpid()}
    text = log_lines.getvalue()
    for secret in ("not-a-uuid-but-private", SYSTEM, OTHER, hash_system_id(SYSTEM)):
        assert secret not in text


def test_a_logged_error_keeps_its_traceback_on_one_json_line(log_lines):
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logging.getLogger("pulpanalytics.summarize").exception("summarizing 2026-03-01 failed")
    (line,) = log_lines.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "pulpanalytics.summarize"
    assert entry["message"] == "summarizing 2026-03-01 failed"
    assert entry["exception"].startswith("Traceback (most recent call last):\n")
    assert entry["exception"].endswith("ZeroDivisionError: division by zero")
    assert entry["time"].endswith("+00:00")


def run_django_logging(**env: str) -> subprocess.CompletedProcess:
    code = (
        "import django, logging; django.setup();"
        " log = logging.getLogger('pulpanalytics.summarize');"
        " log.info('summarized %s', '2026-03-01', extra={'days': 1});"
        " log.warning('pruned %d rows', 1204)"
    )
    base = {"DJANGO_SETTINGS_MODULE": "app.settings", "SECRET_KEY": GOOD_KEY, "DEBUG": "false"}
    return run_python("-c", code, **base, ALLOWED_HOSTS="example.org", **env)


def test_django_logs_go_to_stdout_as_json_lines_from_the_log_level_up():
    result = run_django_logging()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["level"], e["message"]) for e in entries] == [
        ("INFO", "summarized 2026-03-01"),
        ("WARNING", "pruned 1204 rows"),
    ]
    assert entries[0]["days"] == 1
    quiet = run_django_logging(LOG_LEVEL="warning")
    assert [json.loads(line)["message"] for line in quiet.stdout.splitlines()] == [
        "pruned 1204 rows"
    ]


def test_a_bad_log_level_stops_start_up_naming_the_variable():
    message = refused(LOG_LEVEL="loud", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="example.org")
    assert "LOG_LEVEL='LOUD' is not a level" in message


def test_gunicorns_formatter_hides_ipv4_and_ipv6_addresses_but_not_its_listening_line():
    hiding = JsonLineFormatter(hide_addresses=True)

    def formatted(message: str, *args: object, exc_info: object = None) -> dict:
        record = logging.LogRecord("gunicorn.error", 30, "", 0, message, args, exc_info)
        return json.loads(hiding.format(record))

    entry = formatted("Invalid request from ip=%s: %s", "203.0.113.9", "Invalid HTTP request line")
    assert entry["message"] == "Invalid request from ip=[address]: Invalid HTTP request line"
    message = formatted("peers %s and %s at 12:30:45, core 3.45.2", "[2001:db8::17]:443", "::1")
    assert message["message"] == "peers [[address]]:443 and [address] at 12:30:45, core 3.45.2"
    try:
        raise ConnectionError("reset by 198.51.100.23")
    except ConnectionError:
        failed = formatted("Error handling connection", exc_info=sys.exc_info())
    assert failed["exception"].endswith("ConnectionError: reset by [address]")
    listening = formatted("Listening at: %s (%s)", "http://127.0.0.1:8000", 7)
    assert listening["message"] == "Listening at: http://127.0.0.1:8000 (7)"
    plain = logging.LogRecord("x", logging.INFO, "", 0, "ip=%s", ("203.0.113.9",), None)
    assert json.loads(JsonLineFormatter().format(plain))["message"] == "ip=203.0.113.9"
