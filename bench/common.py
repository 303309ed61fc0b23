"""Shared by the benchmark scripts: throw-away PostgreSQL databases, a gunicorn on one, timing,
machine facts."""

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

from bench.server import Gunicorn

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
# A fixed, obviously-not-secret key for the benchmarks' Django processes.
BENCH_ENV = {
    "SECRET_KEY": "bench-only-secret-key-pulpanalytics-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
}

# What the generated reports hold besides core: plugin names, and the RBAC measures.
PLUGINS = [
    "rpm",
    "file",
    "container",
    "ansible",
    "python",
    "deb",
    "gem",
    "maven",
    "ostree",
    "certguard",
    "npm",
    "galaxy",
    "cookbook",
]
RBAC_MEASURES = ("users", "groups", "domains", "custom_access_policies", "custom_roles")


def database_url(server: str, name: str) -> str:
    return f"{server.rstrip('/')}/{name}"


def recreate_database(server: str, name: str) -> str:
    """Drop and create `name` on the server; return its URL, migrated."""
    with admin_connection(server) as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = database_url(server, name)
    run_manage(url, "migrate", "--noinput", "-v", "0")
    return url


def drop_database(server: str, name: str) -> None:
    with admin_connection(server) as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def admin_connection(server: str) -> Iterator:
    connection = psycopg2.connect(database_url(server, "postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def query(url: str, sql: str, params: Sequence | Mapping = ()) -> list[tuple]:
    """The rows of one statement on the database at `url`, on a connection of its own (committed:
    nothing is left open)."""
    connection = psycopg2.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def django_env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, **BENCH_ENV, "DATABASE_URL": url, **extra}


def run_manage(url: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=django_env(url, **extra_env),
        check=True,
        capture_output=True,
        text=True,
    )


def timed_command(url: str, *args: str, **extra_env: str) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in KB, stdout) of `manage.py args` under GNU time."""
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=django_env(url, **extra_env),
        check=True,
        capture_output=True,
        text=True,
    )
    wall, rss = result.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss), result.stdout


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Stopwatch:
    def __enter__(self) -> "Stopwatch":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal"):
                memory_kb = int(line.split()[1])
    import django
    import google.protobuf
    from google.protobuf.internal import api_implementation

    with admin_connection(DEFAULT_SERVER) as cursor:
        cursor.execute("SHOW server_version")
        postgresql = cursor.fetchone()[0]
    gunicorn = subprocess.run(
        [PYTHON, "-m", "gunicorn", "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": f"{os.cpu_count()} cores, {cpu}",
        "memory": f"{memory_kb / 1024 / 1024:.0f} GiB",
        "python": platform.python_version(),
        "django": django.get_version(),
        "protobuf": f"{google.protobuf.__version__} ({api_implementation.Type()})",
        "postgresql": postgresql,
        "gunicorn": gunicorn.replace("gunicorn (version ", "").rstrip(")"),
    }


def benchmark_parser(description: str) -> argparse.ArgumentParser:
    """The command line every benchmark starts from: --server, and --json for make bench."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server",
        default=DEFAULT_SERVER,
        help="PostgreSQL server URL without database (default: %(default)s)",
    )
    parser.add_argument("--json", help="merge the results into this JSON file")
    return parser


def write_results(path: str | None, name: str, results: object) -> None:
    """Merge this script's results into a JSON file (make bench collects them)."""
    if not path:
        return
    target = Path(path)
    data = json.loads(target.read_text()) if target.exists() else {}
    data[name] = results
    target.write_text(json.dumps(data, indent=2, default=str))


def server_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, workers: int, *, options: Sequence[str] = (), **env: str) -> Gunicorn:
    """gunicorn with the production config on the database at `url`, running; its log in a new
    temporary directory (kept for a look after the run). `options` come after the config and win
    over it (G5 runs the former sync workers with `-k sync app.wsgi`)."""
    log_path = Path(tempfile.mkdtemp(prefix="pulpanalytics-gunicorn-")) / "gunicorn.log"
    server = Gunicorn(
        env=django_env(url, **env), workers=workers, log_path=log_path, options=options
    )
    return server.start()
