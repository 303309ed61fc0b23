"""Settings come from the environment; a bad value stops start-up naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 30 + "0123456789abcdefghijklmnopqrstuvwxyz"
# What app.settings adds to every database (DB_CONN_MAX_AGE, DB_CONN_HEALTH_CHECKS defaults).
CONNECTIONS = {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
# ... and to PostgreSQL ones (DB_STATEMENT_TIMEOUT_MS default).
POSTGRES_OPTIONS = {"OPTIONS": {"options": "-c statement_timeout=5000"}}


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import app.settings in a fresh interpreter with exactly these variables."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "PYTHONPATH"}
    }
    code = (
        "import json, app.settings as s; print(json.dumps({'db': s.DATABASES['default'],"
        " 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'retention': s.RAW_RETENTION_DAYS,"
        " 'cap': s.MAX_REPORT_BYTES, 'dev': s.COLLECT_DEV_SYSTEMS, 'key': s.SECRET_KEY,"
        " 'idkey': s.SYSTEM_ID_KEY, 'persistent': s.PERSISTENT_MIN_AGE_DAYS,"
        " 'csrf': s.CSRF_TRUSTED_ORIGINS}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def loaded(**env: str) -> dict:
    import json

    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(**env: str) -> str:
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_a_fresh_checkout_in_debug_needs_no_variable():
    values = loaded(DEBUG="true")
    assert values["db"] == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(ROOT / "db.sqlite3"),
        **CONNECTIONS,
    }
    assert values["hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert (values["retention"], values["cap"], values["dev"], values["persistent"]) == (
        14,
        65536,
        False,
        1,
    )
    assert values["key"].startswith("dev-only-key")


def connection_of(database: dict) -> dict:
    """What a database setting says about where to connect and how."""
    keys = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", *CONNECTIONS, "OPTIONS")
    return {key: database[key] for key in keys if database.get(key)}


def test_database_url_for_postgresql():
    values = loaded(DEBUG="1", DATABASE_URL="postgres://pulp:s%40cret@db.example:6543/analytics")
    assert connection_of(values["db"]) == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "analytics",
        "USER": "pulp",
        "PASSWORD": "s@cret",
        "HOST": "db.example",
        "PORT": 6543,
        **CONNECTIONS,
        **POSTGRES_OPTIONS,
    }


def test_database_url_for_sqlite():
    values = loaded(DEBUG="1", DATABASE_URL="sqlite:////tmp/x.sqlite3")
    assert connection_of(values["db"]) == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/tmp/x.sqlite3",
        **CONNECTIONS,
    }


def test_a_relative_sqlite_url_names_a_file_in_the_working_directory():
    values = loaded(DEBUG="1", DATABASE_URL="sqlite:///analytics.sqlite3")
    assert values["db"]["NAME"] == "analytics.sqlite3"


def test_db_variables_of_existing_deployments():
    values = loaded(
        DEBUG="1",
        DB_DATABASE="analytics",
        DB_USERNAME="u",
        DB_PASSWORD="p",
        DB_HOST="pg",
        DB_PORT="5433",
    )
    assert values["db"] == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "analytics",
        "USER": "u",
        "PASSWORD": "p",
        "HOST": "pg",
        "PORT": "5433",
        **CONNECTIONS,
        **POSTGRES_OPTIONS,
    }


def test_database_url_wins_over_db_variables():
    values = loaded(DEBUG="1", DATABASE_URL="postgres://a@h/one", DB_DATABASE="two", DB_HOST="x")
    assert values["db"]["NAME"] == "one"


def test_production_values_are_read():
    values = loaded(
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="analytics.pulpproject.org, x.org",
        CSRF_TRUSTED_ORIGINS="https://analytics.pulpproject.org",
        RAW_RETENTION_DAYS="30",
        MAX_REPORT_BYTES="1000",
        COLLECT_DEV_SYSTEMS="yes",
        PERSISTENT_MIN_AGE_DAYS="2",
        SYSTEM_ID_KEY="fixed",
    )
    assert values["debug"] is False
    assert values["hosts"] == ["analytics.pulpproject.org", "x.org"]
    assert values["csrf"] == ["https://analytics.pulpproject.org"]
    assert (values["retention"], values["cap"], values["dev"], values["persistent"]) == (
        30,
        1000,
        True,
        2,
    )
    assert values["idkey"] == "fixed"


def test_cache_backend_locmem_keeps_the_limit_counters_per_process():
    code = "import app.settings as s; print(s.CACHES['default']['BACKEND'])"
    clean = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME"}}
    backends = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**clean, "DEBUG": "1", **extra},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for extra in ({}, {"CACHE_BACKEND": "locmem"})
    ]
    assert backends == [
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


def test_app_key_is_an_alias_of_secret_key():
    assert loaded(APP_KEY=GOOD_KEY, ALLOWED_HOSTS="x")["key"] == GOOD_KEY


def test_system_id_key_is_derived_from_secret_key_and_stable():
    first = loaded(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="x")["idkey"]
    again = loaded(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="y")["idkey"]
    other = loaded(SECRET_KEY=GOOD_KEY[::-1], ALLOWED_HOSTS="x")["idkey"]
    assert first == again != other
    assert len(first) == 64


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAW_RETENTION_DAYS": "abc", "DEBUG": "1"}, "RAW_RETENTION_DAYS='abc' is not an integer"),
        ({"MAX_REPORT_BYTES": "0", "DEBUG": "1"}, "MAX_REPORT_BYTES='0' must be at least 1"),
        (
            {"PERSISTENT_MIN_AGE_DAYS": "-1", "DEBUG": "1"},
            "PERSISTENT_MIN_AGE_DAYS='-1' must be at least 0",
        ),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"COLLECT_DEV_SYSTEMS": "2", "DEBUG": "1"}, "COLLECT_DEV_SYSTEMS='2' is not a boolean"),
        ({"DATABASE_URL": "mysql://x/y", "DEBUG": "1"}, "unsupported scheme 'mysql'"),
        ({"DATABASE_URL": "postgres://host:99999/db", "DEBUG": "1"}, "bad port"),
        ({"DATABASE_URL": "postgres://host/", "DEBUG": "1"}, "DATABASE_URL names no database"),
        ({"DATABASE_URL": "sqlite://", "DEBUG": "1"}, "DATABASE_URL names no database"),
        ({"DB_HOST": "pg", "DB_PORT": "five", "DEBUG": "1"}, "DB_PORT='five' is not an integer"),
        ({}, "SECRET_KEY (or APP_KEY) is required when DEBUG is off"),
        (
            {"SECRET_KEY": "django-insecure-" + GOOD_KEY, "ALLOWED_HOSTS": "x"},
            "must not be a 'django-insecure-' key",
        ),
        ({"SECRET_KEY": "short", "ALLOWED_HOSTS": "x"}, "at least 50 characters"),
        ({"SECRET_KEY": GOOD_KEY}, "ALLOWED_HOSTS is required when DEBUG is off"),
        ({"CACHE_BACKEND": "memcached", "DEBUG": "1"}, "the only choice is 'locmem'"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(env, message):
    assert message in refused(**env)
