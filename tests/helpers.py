"""What several test modules share: report builders and protobuf wire encoding, moments and row
counts, a Django process started with only the given variables, the test gunicorn's environment,
the Prometheus text parser, the reliability figures.

A plain module (not a conftest, not a test module): tests import what they use from here.
"""

import datetime as dt
import importlib.util
import json
import math
import os
import subprocess
import sys
import types
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pulpanalytics.telemetry_pb2 import Telemetry

ROOT = Path(__file__).resolve().parent.parent
# A production-length SECRET_KEY that is obviously not a secret.
GOOD_KEY = "k" * 30 + "0123456789abcdefghijklmnopqrstuvwxyz"


# --- reports ---


def build_telemetry(
    system_id: str = "11111111-1111-4111-8111-111111111111",
    *,
    components: dict[str, str] | list[tuple[str, str]] | None = None,
    workers: tuple[int | None, int | None] | None = None,
    content_apps: tuple[int | None, int | None] | None = None,
    postgresql_version: int | None = None,
    rbac: dict[str, int] | None = None,
) -> Telemetry:
    """A Telemetry message; components default to core 3.45.2 and file 1.2.3."""
    report = Telemetry(system_id=system_id)
    if components is None:
        components = {"core": "3.45.2", "file": "1.2.3"}
    pairs = components.items() if isinstance(components, dict) else components
    for name, version in pairs:
        report.components.add(name=name, version=version)
    for field, pair in (("online_workers", workers), ("online_content_apps", content_apps)):
        if pair is not None:
            message = getattr(report, field)
            message.SetInParent()
            if pair[0] is not None:
                message.processes = pair[0]
            if pair[1] is not None:
                message.hosts = pair[1]
    if postgresql_version is not None:
        report.postgresql_version = postgresql_version
    if rbac is not None:
        report.rbac_stats.SetInParent()
        for key, value in rbac.items():
            setattr(report.rbac_stats, key, value)
    return report


def at(
    day: dt.date, hour: int = 12, minute: int = 0, second: int = 0, micro: int = 0
) -> dt.datetime:
    """That moment of a UTC day."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=dt.UTC)


def row_counts() -> tuple[int, int, int]:
    """(systems, reports, components) in the database."""
    from pulpanalytics.models import Component, Report, System

    return System.objects.count(), Report.objects.count(), Component.objects.count()


def assert_text(response: object, status: int, body: str) -> None:
    """A plain-text answer: this status and exactly this body."""
    assert response.status_code == status
    assert response.content.decode() == body
    assert response["Content-Type"] == "text/plain; charset=utf-8"


# Protobuf's wire format, for bodies no Telemetry message would serialize to.
def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return varint((field << 3) | wire_type)


def system_id(number: int) -> str:
    """A distinct valid UUIDv4 per number."""
    return f"{number:08x}-0000-4000-8000-000000000000"


# --- a fresh Django process with only the given variables ---


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`python *args` in the repository with only `env` (plus PATH, HOME, LANG, PYTHONPATH), so
    that nothing of the test run's own environment leaks into the settings under test."""
    kept = {
        name: os.environ[name]
        for name in ("PATH", "HOME", "LANG", "PYTHONPATH")
        if name in os.environ
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**kept, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, **env)


def settings_of(*names: str, **env: str) -> dict:
    """These settings as app.settings computes them from exactly `env` (JSON types: tuples
    become lists)."""
    code = (
        "import json, app.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run_python("-c", code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(**env: str) -> str:
    """The ImproperlyConfigured message app.settings stops with under exactly `env`."""
    result = run_python("-c", "import app.settings", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


def load_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> types.ModuleType:
    """Execute gunicorn.conf.py as gunicorn does, under exactly these serving variables."""
    for name in ("PORT", "WEB_CONCURRENCY", "LOG_LEVEL", "TRUSTED_PROXY_COUNT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = ROOT / "gunicorn.conf.py"
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", config)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the test gunicorn (bench/server.py starts it) ---


def database_url(settings_dict: dict) -> str:
    """The DATABASE_URL of a Django PostgreSQL settings dict (the test database's)."""
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    host = settings_dict["HOST"] or ""
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


def server_env(database_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a test gunicorn: the test run's own, pointed at the test database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="app.settings",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Bulk tests post thousands of reports from one address; the limits have their own tests.
        REPORT_RATE_LIMIT="0",
        NEW_SYSTEM_RATE_LIMIT="0",
        ADMIN_LOGIN_FAILURE_LIMIT="0",
    )
    env.update(overrides)
    return env


# --- Prometheus ---

Sample = tuple[str, tuple[tuple[str, str], ...]]


def parse_metrics(text: str) -> dict[Sample, float]:
    """Every sample of a Prometheus text body, parsed by prometheus_client's own parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def reports_sample(outcome: str, reason: str = "") -> Sample:
    return ("pulpanalytics_reports_total", (("outcome", outcome), ("reason", reason)))


# --- the reliability figures (docs/reliability.md), printed at the end of the run ---

FIGURES: dict[str, str] = {}


def record(row: str, figure: str) -> None:
    """Keep `figure` for plan row `row` (e.g. "A1 random bytes"); the last value wins."""
    FIGURES[row] = figure


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of a non-empty list (0.99 -> p99)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


# --- the OpenShift manifests (openshift/), read by the deployment and monitoring tests ---

OPENSHIFT = ROOT / "openshift"


def manifests() -> dict[Path, dict]:
    """Every YAML file under openshift/, each parsed to its one object."""
    import yaml

    found = {}
    for path in sorted(OPENSHIFT.rglob("*.yaml")):
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert len(documents) == 1, f"{path} must hold exactly one object"
        found[path.relative_to(OPENSHIFT)] = documents[0]
    return found


def the(kind: str) -> dict:
    (found,) = [obj for obj in manifests().values() if obj["kind"] == kind]
    return found


# --- the demo fleet (manage.py simulate_fleet), run at a fixed moment ---

FLEET_END = dt.date(2026, 1, 31)
FLEET_NOW = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)


def simulate(*args: str, out: StringIO | None = None, now: dt.datetime = FLEET_NOW) -> list[str]:
    """The output lines of `manage.py simulate_fleet *args` run at `now`."""
    import time_machine
    from django.core.management import call_command

    out = out if out is not None else StringIO()
    with time_machine.travel(now, tick=False):
        call_command("simulate_fleet", *args, stdout=out)
    return out.getvalue().splitlines()


def summary_part(summary: dict, expected: dict) -> dict:
    """The summary's keys that `expected` names, in the summary's order (a missing one fails).

    A whole-summary test compares this with its expectation: a metric added later brings keys
    of its own, which its own tests check, and no whole-summary test needs editing for it.
    """
    missing = expected.keys() - summary.keys()
    assert not missing, f"the summary lacks {sorted(missing)}"
    return {key: summary[key] for key in summary if key in expected}
