"""A real gunicorn on loopback serving the test database, and a raw HTTP/1.1 client for it.

The raw client writes bytes on a socket, so a test controls exactly what is sent (headers only,
duplicate headers, no Content-Length, a chosen source address) and when.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
LISTENING_RE = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+)")
START_TIMEOUT_SECONDS = 30


def database_url(settings_dict: dict) -> str:
    """The DATABASE_URL of a Django PostgreSQL settings dict (the test database's)."""
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    host = settings_dict["HOST"] or ""
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    seconds: float  # from the last byte the client sent to the first byte of the answer

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def parse_response(data: bytes, seconds: float) -> RawResponse:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    _, status, reason = (status_line.split(" ", 2) + [""])[:3]
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _unchunk(body)
    return RawResponse(int(status), reason, headers, body, seconds)


def _unchunk(data: bytes) -> bytes:
    out, position = bytearray(), 0
    while True:
        line_end = data.index(b"\r\n", position)
        size = int(data[position:line_end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[line_end + 2 : line_end + 2 + size]
        position = line_end + 2 + size + 2


@dataclass
class Gunicorn:
    """`gunicorn app.asgi -w N` on 127.0.0.1, a port of the kernel's choosing, its log in a file."""

    env: dict[str, str]
    workers: int
    log_path: Path
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "app.asgi",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            str(self.workers),
            "--graceful-timeout",
            "2",
            # gunicorn 27 opens a control socket in $HOME by default, shared by every instance.
            "--no-control-socket",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log()}")
            match = LISTENING_RE.search(self.log_path.read_bytes())
            if match and self.log().count("Booting worker") >= self.workers:
                self.port = int(match.group(1))
                if self._answers():
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"gunicorn did not answer within {START_TIMEOUT_SECONDS} s:\n{self.log()}"
        )

    def _answers(self) -> bool:
        try:
            return self.request("GET", "/healthz").status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGINT: quick shutdown of the master and its workers (they close their DB connections).
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def exchange(
        self, head: bytes, body: bytes = b"", *, source: str = "127.0.0.1", timeout: float = 20
    ) -> RawResponse:
        """Send `head` (and then `body`), read the answer until the server closes."""
        with socket.create_connection(
            ("127.0.0.1", self.port), timeout=timeout, source_address=(source, 0)
        ) as sock:
            sock.sendall(head)
            if body:
                sock.sendall(body)
            sent = time.perf_counter()
            chunks, first = [], None
            while chunk := sock.recv(65536):
                if first is None:
                    first = time.perf_counter()
                chunks.append(chunk)
        return parse_response(b"".join(chunks), (first or time.perf_counter()) - sent)

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        headers: dict[str, str] | None = None,
        source: str = "127.0.0.1",
    ) -> RawResponse:
        """An ordinary HTTP/1.1 request with Host and Content-Length, as pulpcore sends it."""
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
        if method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return self.exchange(head, body, source=source)

    def post(self, body: bytes, **kwargs: object) -> RawResponse:
        return self.request("POST", "/", body, **kwargs)


def server_env(database: dict, **overrides: str) -> dict[str, str]:
    """The environment of a test gunicorn: the test run's own, pointed at the test database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        DATABASE_URL=database_url(database),
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


def collect_static(root: Path, database: dict) -> None:
    """collectstatic into `root`, with the production storage (hashed, compressed names)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=server_env(database, STATIC_ROOT=str(root)),
        check=True,
    )
