"""gunicorn.conf.py: its values, its hooks, a real gunicorn of two workers serving the site."""

import importlib.util
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import types
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from gunicorn.config import Config

from tests.test_monitoring import parse, reports
from tests.test_settings import GOOD_KEY, ROOT

CONFIG = ROOT / "gunicorn.conf.py"
# Test servers take a port from this range, away from `make run` (8000) and the container (8080).
SMOKE_PORTS = range(8100, 8200)
TOKEN = "smoke-test-token"


def load_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> types.ModuleType:
    """Execute gunicorn.conf.py as gunicorn does, under exactly these serving variables."""
    for name in ("PORT", "WEB_CONCURRENCY", "LOG_LEVEL", "TRUSTED_PROXY_COUNT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", CONFIG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_config_defaults_suit_the_container(monkeypatch):
    conf = load_config(monkeypatch)
    assert (conf.wsgi_app, conf.worker_class) == ("app.asgi:application", "asgi")
    assert conf.bind == ["0.0.0.0:8080"]
    assert conf.workers == 2
    assert (conf.timeout, conf.graceful_timeout, conf.keepalive) == (30, 25, 5)
    assert (conf.accesslog, conf.errorlog, conf.loglevel) == ("-", "-", "info")
    assert conf.control_socket_disable is True
    logging = conf.logconfig_dict
    assert logging["formatters"]["json"]["()"] == "app.log_format.JsonLineFormatter"
    assert logging["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    for name in ("gunicorn.error", "gunicorn.access"):
        assert logging["loggers"][name]["handlers"] == ["stdout"]
        assert logging["loggers"][name]["propagate"] is False


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
    assert sorted(names) == sorted(
        [
            "wsgi_app",
            "bind",
            "workers",
            "worker_class",
            "timeout",
            "graceful_timeout",
            "keepalive",
            "control_socket_disable",
            "worker_tmp_dir",
            "forwarded_allow_ips",
            "secure_scheme_headers",
            "accesslog",
            "errorlog",
            "loglevel",
            "access_log_format",
            "logconfig_dict",
            "on_starting",
            "child_exit",
            "on_exit",
        ]
    )
    for name in names:
        assert name in settings.settings, name
        settings.set(name, getattr(conf, name))  # gunicorn's own validation
    assert settings.workers == 2


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
    if connection.vendor == "sqlite":
        # The SQLite test database lives in this process's memory: hand over a file copy.
        path = tmp_path / "smoke.sqlite3"
        copy = sqlite3.connect(path)
        try:
            connection.connection.backup(copy)
        finally:
            copy.close()
        return f"sqlite:///{path}"
    db = connection.settings_dict
    credentials = quote(db["USER"], safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    ports = list(SMOKE_PORTS)
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {SMOKE_PORTS}")


def request(url: str, *, data: bytes | None = None, token: str = "") -> tuple[int, str]:
    """(status, body) of a request to our own test server (always http://127.0.0.1)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    outgoing = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(outgoing, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_until_serving(process: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            if request(f"{base}/healthz") == (200, "ok"):
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer within 30 s:\n{log.read_text()}")


@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_two_workers_serves_reports_probes_and_summed_metrics(tmp_path, telemetry):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmp_path),
        "DATABASE_URL": shared_database_url(tmp_path),
        "SECRET_KEY": GOOD_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "METRICS_TOKEN": TOKEN,
        "WEB_CONCURRENCY": "2",
        # The test does not run collectstatic; whitenoise would warn about it on stderr.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    command = [sys.executable, "-m", "gunicorn", "--config", str(CONFIG)]
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            wait_until_serving(process, base, stdout)
            (metrics_dir,) = tmp_path.glob("pulpanalytics-prometheus-*")

            assert request(f"{base}/readyz") == (200, "ready")
            body = telemetry("88888888-8888-4888-8888-888888888888")
            assert request(f"{base}/", data=body) == (200, "stored")
            assert request(f"{base}/", data=body) == (200, "duplicate: already received today")
            assert request(f"{base}/", data=b"\xff\xff")[0] == 400
            assert request(f"{base}/metrics") == (401, "a valid bearer token is required")
            # Each scrape lands on either worker; every one must see the sum of both.
            for _ in range(6):
                status, text = request(f"{base}/metrics", token=TOKEN)
                assert status == 200
                samples = parse(text)
                assert samples[reports("stored")] == 1
                assert samples[reports("duplicate")] == 1
                assert samples[reports("rejected", "undecodable")] == 1
                assert samples[("pulpanalytics_raw_reports", ())] == 1

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    assert stderr.read_text() == ""
    entries = [json.loads(line) for line in stdout.read_text().splitlines()]
    messages = [(entry["logger"], entry["message"]) for entry in entries]
    assert ("pulpanalytics.views", "report rejected: undecodable") in messages
    assert ("gunicorn.access", '"POST / HTTP/1.1" 200 6 bytes') in [
        (logger, message.rsplit(" ", 2)[0]) for logger, message in messages
    ]
    booted = [m for logger, m in messages if m.startswith("Booting worker with pid")]
    assert len(booted) == 2
    assert not metrics_dir.exists()
