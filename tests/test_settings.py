"""Settings come from the environment; a bad value stops start-up naming the variable."""

import pytest

from tests.helpers import GOOD_KEY, ROOT, refused, settings_of

# What app.settings adds to every database (DB_CONN_MAX_AGE, DB_CONN_HEALTH_CHECKS defaults).
CONNECTIONS = {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
# ... and to PostgreSQL ones (DB_STATEMENT_TIMEOUT_MS default).
POSTGRES_OPTIONS = {"OPTIONS": {"options": "-c statement_timeout=5000"}}


def database(**env: str) -> dict:
    return settings_of("DATABASES", **env)["DATABASES"]["default"]


def test_a_fresh_checkout_in_debug_needs_no_variable():
    values = settings_of("DATABASES", "SECRET_KEY", DEBUG="true")
    assert values["DATABASES"]["default"] == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(ROOT / "db.sqlite3"),
        **CONNECTIONS,
    }
    assert values["SECRET_KEY"].startswith("dev-only-key")


def connection_of(database: dict) -> dict:
    """What a database setting says about where to connect and how."""
    keys = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", *CONNECTIONS, "OPTIONS")
    return {key: database[key] for key in keys if database.get(key)}


def test_database_url_for_postgresql():
    url = "postgres://pulp:s%40cret@db.example:6543/analytics"
    assert connection_of(database(DEBUG="1", DATABASE_URL=url)) == {
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
    assert connection_of(database(DEBUG="1", DATABASE_URL="sqlite:////tmp/x.sqlite3")) == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/tmp/x.sqlite3",
        **CONNECTIONS,
    }


def test_a_relative_sqlite_url_names_a_file_in_the_working_directory():
    assert database(DEBUG="1", DATABASE_URL="sqlite:///analytics.sqlite3")["NAME"] == (
        "analytics.sqlite3"
    )


def test_db_variables_of_existing_deployments():
    values = database(
        DEBUG="1",
        DB_DATABASE="analytics",
        DB_USERNAME="u",
        DB_PASSWORD="p",
        DB_HOST="pg",
        DB_PORT="5433",
    )
    assert values == {
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
    values = database(DEBUG="1", DATABASE_URL="postgres://a@h/one", DB_DATABASE="two", DB_HOST="x")
    assert values["NAME"] == "one"


def test_production_values_are_read():
    names = ("DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "RAW_RETENTION_DAYS")
    names += ("MAX_REPORT_BYTES", "COLLECT_DEV_SYSTEMS", "PERSISTENT_MIN_AGE_DAYS", "SYSTEM_ID_KEY")
    values = settings_of(
        *names,
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="analytics.pulpproject.org, x.org",
        CSRF_TRUSTED_ORIGINS="https://analytics.pulpproject.org",
        RAW_RETENTION_DAYS="30",
        MAX_REPORT_BYTES="1000",
        COLLECT_DEV_SYSTEMS="yes",
        PERSISTENT_MIN_AGE_DAYS="2",
        SYSTEM_ID_KEY="fixed",
    )
    assert values == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["analytics.pulpproject.org", "x.org"],
        "CSRF_TRUSTED_ORIGINS": ["https://analytics.pulpproject.org"],
        "RAW_RETENTION_DAYS": 30,
        "MAX_REPORT_BYTES": 1000,
        "COLLECT_DEV_SYSTEMS": True,
        "PERSISTENT_MIN_AGE_DAYS": 2,
        "SYSTEM_ID_KEY": "fixed",
    }


def test_cache_backend_locmem_keeps_the_limit_counters_per_process():
    backends = [
        settings_of("CACHES", DEBUG="1", **extra)["CACHES"]["default"]["BACKEND"]
        for extra in ({}, {"CACHE_BACKEND": "locmem"})
    ]
    assert backends == [
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


def test_app_key_is_an_alias_of_secret_key():
    assert settings_of("SECRET_KEY", APP_KEY=GOOD_KEY, ALLOWED_HOSTS="x") == {
        "SECRET_KEY": GOOD_KEY
    }


def test_system_id_key_is_derived_from_secret_key_and_stable():
    def key(secret: str, hosts: str) -> str:
        return settings_of("SYSTEM_ID_KEY", SECRET_KEY=secret, ALLOWED_HOSTS=hosts)["SYSTEM_ID_KEY"]

    first, again, other = key(GOOD_KEY, "x"), key(GOOD_KEY, "y"), key(GOOD_KEY[::-1], "x")
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
