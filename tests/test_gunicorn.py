"""gunicorn.conf.py: its values, its hooks, a real gunicorn of two workers serving the site."""

import json
import os
import signal
import sqlite3
import tempfile
import types
from pathlib import Path

import pytest
from django.db import connection
from gunicorn.config import Config

from bench.server import Gunicorn
from tests.helpers import (
    GOOD_KEY,
    database_url,
    load_config,
    parse_metrics,
    reports_sample,
)

TOKEN = "smoke-test-token"


def test_gunicorn_config_reads_port_workers_and_log_level_from_the_environment(monkeypatch):
    conf = load_config(monkeypatch, PORT="9000", WEB_CONCURRENCY="5", LOG_LEVEL="Warning")
    assert conf.bind == ["0.0.0.0:9000"]
    assert conf.workers == 5
    assert conf.loglevel == "warning"
    assert conf.logconfig_dict["loggers"]["gunicorn.error"]["level"] == "WARNING"


@pytest.mark.parametrize("value", ["abc", "0", "-2", "2.5"])
def test_gunicorn_config_refuses_a_bad_worker_count_naming_the_variable(monkeypatch, value):
    with pytest.raises(ValueError, match=f"WEB_CONCURRENCY='{value}' is not a positive integer"):
        load_config(monkeypatch, WEB_CONCURRENCY=value)


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_gunicorn_config_refuses_a_bad_proxy_count_naming_the_variable(monkeypatch, value):
    with pytest.raises(ValueError, match=f"TRUSTED_PROXY_COUNT='{value}' is not a non-negative"):
        load_config(monkeypatch, TRUSTED_PROXY_COUNT=value)


def test_every_name_in_the_gunicorn_config_is_a_gunicorn_setting_it_accepts(monkeypatch):
    # gunicorn silently ignores unknown names in a config file: a typo would go unnoticed.
    conf = load_config(monkeypatch)
    settings = Config()
    names = [
        name
        for name, value in vars(conf).items()
        if not name.startswith("_") and not isinstance(value, (types.ModuleType, type))
    ]
    for name in names:
        assert name in settings.settings, name
        settings.set(name, getattr(conf, name))  # gunicorn's own validation


def test_gunicorn_hooks_give_workers_a_clean_counter_directory_and_remove_their_own(
    monkeypatch, tmp_path
):
    conf = load_config(monkeypatch)
    given = tmp_path / "given"
    given.mkdir()
    for name in ("counter_11.db", "gauge_livesum_12.db", "notes.txt"):
        (given / name).write_text("x")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(given))
    conf.on_starting(None)
    assert sorted(path.name for path in given.iterdir()) == ["notes.txt"]

    # A worker's counters outlive it (they still count); its live gauges do not.
    (given / "counter_21.db").write_text("x")
    (given / "gauge_livesum_21.db").write_text("x")
    conf.child_exit(None, types.SimpleNamespace(pid=21))
    assert sorted(path.name for path in given.iterdir()) == ["counter_21.db", "notes.txt"]
    conf.on_exit(None)
    assert given.is_dir()

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    conf.on_starting(None)
    created = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert created.parent == tmp_path
    assert created.name.startswith("pulpanalytics-prometheus-")
    assert created.is_dir()
    conf.on_exit(None)
    assert not created.exists()


def shared_database_url(tmp_path: Path) -> str:
    """A DATABASE_URL that another process can open and that holds the migrated test database."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        return database_url(connection.settings_dict)
    # The SQLite test database lives in this process's memory: hand over a file copy.
    path = tmp_path / "smoke.sqlite3"
    copy = sqlite3.connect(path)
    try:
        connection.connection.backup(copy)
    finally:
        copy.close()
    return f"sqlite:///{path}"


@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_two_workers_serves_reports_probes_and_summed_metrics(tmp_path, telemetry):
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmp_path),
        "DATABASE_URL": shared_database_url(tmp_path),
        "SECRET_KEY": GOOD_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "METRICS_TOKEN": TOKEN,
        # The test does not run collectstatic; whitenoise would warn about it on stderr.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    server = Gunicorn(env=env, workers=2, log_path=tmp_path / "gunicorn.log")
    server.start()
    try:
        (metrics_dir,) = tmp_path.glob("pulpanalytics-prometheus-*")

        def answer(path: str, body: bytes = b"", **headers: str) -> tuple[int, str]:
            response = server.request("POST" if body else "GET", path, body, headers=headers)
            return response.status, response.text

        assert answer("/readyz") == (200, "ready")
        body = telemetry("88888888-8888-4888-8888-888888888888")
        assert answer("/", body) == (200, "stored")
        assert answer("/", body) == (200, "duplicate: already received today")
        assert answer("/", b"\xff\xff")[0] == 400
        assert answer("/metrics") == (401, "a valid bearer token is required")
        # Each scrape lands on either worker; every one must see the sum of both.
        for _ in range(6):
            status, text = answer("/metrics", Authorization=f"Bearer {TOKEN}")
            assert status == 200
            samples = parse_metrics(text)
            assert samples[reports_sample("stored")] == 1
            assert samples[reports_sample("duplicate")] == 1
            assert samples[reports_sample("rejected", "undecodable")] == 1
            assert samples[("pulpanalytics_raw_reports", ())] == 1

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
    finally:
        server.stop()

    # stdout and stderr share the log: every line is JSON, so nothing else was written.
    entries = [json.loads(line) for line in server.log().splitlines()]
    messages = [(entry["logger"], entry["message"]) for entry in entries]
    assert ("pulpanalytics.views", "report rejected: undecodable") in messages
    assert ("gunicorn.access", '"POST / HTTP/1.1" 200 6 bytes') in [
        (logger, message.rsplit(" ", 2)[0]) for logger, message in messages
    ]
    booted = [m for logger, m in messages if m.startswith("Booting worker with pid")]
    assert len(booted) == 2
    assert not metrics_dir.exists()
