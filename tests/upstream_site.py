"""The old Pulp analytics site's database (docs/upstream.md), for tests and the benchmark:
its DDL, a throw-away PostgreSQL database holding it, and the JSON file of its tables."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import psycopg2.extras

# Written from docs/upstream.md's table list (what its one squashed migration makes).
DDL = """
CREATE TABLE pulpanalytics_dailysummary (date date PRIMARY KEY);
CREATE TABLE pulpanalytics_agecount (
    id serial PRIMARY KEY,
    summary_id date NOT NULL REFERENCES pulpanalytics_dailysummary (date),
    age integer NOT NULL CHECK (age >= 0), count integer NOT NULL CHECK (count >= 0),
    UNIQUE (summary_id, age));
CREATE TABLE pulpanalytics_xyversioncount (
    id serial PRIMARY KEY,
    summary_id date NOT NULL REFERENCES pulpanalytics_dailysummary (date),
    name text NOT NULL, version text NOT NULL, count integer NOT NULL CHECK (count >= 0),
    UNIQUE (summary_id, name, version));
CREATE TABLE pulpanalytics_xyzversioncount (
    id serial PRIMARY KEY,
    summary_id date NOT NULL REFERENCES pulpanalytics_dailysummary (date),
    name text NOT NULL, version text NOT NULL, count integer NOT NULL CHECK (count >= 0),
    UNIQUE (summary_id, name, version));
CREATE TABLE pulpanalytics_postgresversioncount (
    id serial PRIMARY KEY,
    summary_id date NOT NULL REFERENCES pulpanalytics_dailysummary (date),
    version integer NOT NULL, count integer NOT NULL CHECK (count >= 0),
    UNIQUE (summary_id, version));
CREATE TABLE pulpanalytics_deploymentstats (
    summary_id date PRIMARY KEY REFERENCES pulpanalytics_dailysummary (date),
    online_worker_hosts_avg double precision, online_worker_processes_avg double precision,
    online_content_app_hosts_avg double precision,
    online_content_app_processes_avg double precision);
CREATE TABLE pulpanalytics_numbercount (
    id serial PRIMARY KEY,
    summary_id date NOT NULL REFERENCES pulpanalytics_dailysummary (date),
    name text NOT NULL, number integer NOT NULL CHECK (number >= 0),
    count integer NOT NULL CHECK (count >= 0),
    UNIQUE (summary_id, name, number));
CREATE TABLE pulpanalytics_system (
    id serial PRIMARY KEY,
    system_id uuid NOT NULL,
    created timestamptz NOT NULL,
    first_seen timestamptz,
    postgresql_version integer NOT NULL DEFAULT 0,
    users integer, groups integer, domains integer, custom_access_policies integer,
    custom_roles integer, content_app_hosts integer, content_app_processes integer,
    worker_hosts integer, worker_processes integer);
CREATE UNIQUE INDEX system_once_a_day
    ON pulpanalytics_system (system_id, ((created AT TIME ZONE 'UTC')::date));
CREATE TABLE pulpanalytics_component (
    id serial PRIMARY KEY,
    system_id integer NOT NULL REFERENCES pulpanalytics_system (id),
    name text NOT NULL, version text NOT NULL,
    UNIQUE (system_id, name));
"""
# In the order their foreign keys need.
TABLES = (
    "pulpanalytics_dailysummary",
    "pulpanalytics_agecount",
    "pulpanalytics_xyversioncount",
    "pulpanalytics_xyzversioncount",
    "pulpanalytics_postgresversioncount",
    "pulpanalytics_deploymentstats",
    "pulpanalytics_numbercount",
    "pulpanalytics_system",
    "pulpanalytics_component",
)


def server_url(settings_dict: dict) -> str:
    """The PostgreSQL server of a Django database, as a URL without a database name."""
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}"


@contextmanager
def throwaway_database(server: str, name: str) -> Iterator[str]:
    """A new database `name` on the server holding the upstream tables, dropped afterwards;
    yields its URL."""
    admin = psycopg2.connect(f"{server}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    try:
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute(DDL)
        connection.close()
        yield url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def fill(url: str, tables: dict[str, list[dict]]) -> None:
    """Insert the rows of `tables` (table -> rows, as in the JSON file) into the database."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        for table in TABLES:
            rows = tables.get(table, [])
            if not rows:
                continue
            columns = list(rows[0])
            psycopg2.extras.execute_values(
                cursor,
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES %s",  # noqa: S608
                [[row[column] for column in columns] for row in rows],
                page_size=5000,
            )
    connection.close()


def table_counts(url: str) -> dict[str, int]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    connection.close()
    return counts


def write_file(path: Path, tables: dict[str, list[dict]]) -> Path:
    """The JSON file `psql` makes of the tables (README.md): every table, [] when empty."""
    path.write_text(json.dumps({table: tables.get(table, []) for table in TABLES}, default=str))
    return path
