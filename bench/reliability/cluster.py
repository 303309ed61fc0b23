"""A private, throw-away PostgreSQL cluster for the scenarios that stop, restart or starve the
database server (C1, C3, C4, D8): the shared server on 5432 serves other people's tests.

Debian's PostgreSQL binaries (/usr/lib/postgresql/<version>/bin) run `initdb` in a temporary
directory; the server listens on a free port of 127.0.0.1 only, with trust authentication and
fsync on. initdb refuses to run as root, so as root every command runs as the `postgres` OS user.
`close()` (or leaving the `with` block) stops the server and deletes the directory, whatever
happened before.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

from bench.common import free_port

POSTGRESQL = Path("/usr/lib/postgresql")
OS_USER = "postgres"


def binaries() -> Path:
    """The bin directory of the newest PostgreSQL installed, or SystemExit naming the package."""
    versions = sorted(
        (path for path in POSTGRESQL.glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if not versions:
        raise SystemExit(
            "needs PostgreSQL's server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin:"
            " apt-get install postgresql"
        )
    return versions[-1]


class Cluster:
    """`Cluster(max_connections="5")`: extra keyword arguments become postgresql.conf settings."""

    def __init__(self, **settings: str) -> None:
        self.bin = binaries()
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                pwd.getpwnam(OS_USER)
            except KeyError:
                raise SystemExit(f"running as root needs the OS user {OS_USER!r}") from None
        self.directory = Path(tempfile.mkdtemp(prefix="pulpanalytics-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        if self.as_root:
            shutil.chown(self.directory, OS_USER, OS_USER)
        self.running = False
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            )
            conf = {
                "listen_addresses": "'127.0.0.1'",
                "port": str(self.port),
                "unix_socket_directories": f"'{self.directory}'",
                "fsync": "on",
                **{name: str(value) for name, value in settings.items()},
            }
            with (self.data / "postgresql.conf").open("a") as extra:
                extra.writelines(f"{name} = {value}\n" for name, value in conf.items())
        except BaseException:
            self.close()
            raise

    @property
    def server(self) -> str:
        """The server URL without a database, as bench.common's helpers take it."""
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin / program), *args]
        if self.as_root:
            command = ["runuser", "-u", OS_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.directory)
        if result.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr.strip()}\n{tail}"
            )
        return result

    def pg_ctl(self, action: str, *args: str) -> None:
        self._run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", *args)

    def start(self) -> "Cluster":
        self.pg_ctl("start", "-t", "60")
        self.running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-m", mode, "-t", "60")
        self.running = False

    def restart(self, mode: str = "fast") -> None:
        self.pg_ctl("restart", "-m", mode, "-t", "60")
        self.running = True

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(f"{self.server}/postgres", connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def close(self) -> None:
        """Stop the server (immediately: it is thrown away) and delete its directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        except RuntimeError:
            pass
        finally:
            self.running = False
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
