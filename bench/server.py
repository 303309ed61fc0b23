"""A real gunicorn on loopback (the production gunicorn.conf.py), a raw HTTP/1.1 client for it, and
the headless Chromium that the browser tests and the site benchmark visit it with.

Shared by the benchmarks, the tier 2 scenarios and the live-server tests. The client writes bytes
on a socket, so a caller controls exactly what is sent (headers only, duplicate headers, no
Content-Length, a chosen source address) and when; every request has its own connection, as a
pulpcore installation opens one a day.
"""

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LISTENING_RE = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+)")
START_TIMEOUT_SECONDS = 30

# Debian's Chromium (never a downloaded browser), without the background traffic that would add
# requests of its own to a measurement.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


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


def request_head(method: str, path: str, body: bytes = b"", headers: Headers = ()) -> bytes:
    """An ordinary HTTP/1.1 request head with Host and Content-Length, as pulpcore sends it."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if method not in ("GET", "HEAD") or body:
        lines.append(f"Content-Length: {len(body)}")
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lines += [f"{name}: {value}" for name, value in pairs]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_response(data: bytes, seconds: float) -> RawResponse:
    if not data.startswith(b"HTTP/1."):
        raise ConnectionError("the server closed the connection without an answer")
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


def exchange(
    port: int, head: bytes, body: bytes = b"", *, source: str = "127.0.0.1", timeout: float = 20
) -> RawResponse:
    """Send `head` (and then `body`) on a new connection; read the answer until the server
    closes. OSError (a timeout is one) if the server does not answer."""
    with socket.create_connection(
        ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
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
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    headers: Headers = (),
    source: str = "127.0.0.1",
    timeout: float = 20,
) -> RawResponse:
    return exchange(
        port, request_head(method, path, body, headers), body, source=source, timeout=timeout
    )


async def request_async(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    headers: Headers = (),
    timeout: float = 10.0,
) -> RawResponse:
    """`request` for an asyncio load; TimeoutError after `timeout` seconds in all."""

    async def exchange() -> RawResponse:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request_head(method, path, body, headers) + body)
            await writer.drain()
            sent = time.perf_counter()
            chunks, first = [], None
            while chunk := await reader.read(65536):
                if first is None:
                    first = time.perf_counter()
                chunks.append(chunk)
        finally:
            writer.close()
        return parse_response(b"".join(chunks), (first or time.perf_counter()) - sent)

    return await asyncio.wait_for(exchange(), timeout)


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def stop_process(process: subprocess.Popen, stop_signal: int, timeout: float = 15) -> None:
    """`stop_signal` to a server's master; SIGKILL to it and its workers if it lingers. A SIGKILL
    to the master alone would leave its workers serving until they notice it is gone."""
    if process.poll() is not None:
        return
    workers = children(process.pid)
    process.send_signal(stop_signal)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait(timeout=5)


@dataclass
class Gunicorn:
    """`gunicorn --config gunicorn.conf.py -w N` on 127.0.0.1, a port of the kernel's choosing,
    its output (JSON lines) in a file."""

    env: dict[str, str]
    workers: int
    log_path: Path
    # Command-line options after the config (they win over it), e.g. ("-k", "sync", "app.wsgi").
    options: Sequence[str] = ()
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def start(self) -> "Gunicorn":
        """Start; return once every worker has booted and /healthz answers."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            str(self.workers),
            *self.options,
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
                    return self
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
        """Quick shutdown (SIGINT: the master takes its workers down and they close their
        database connections)."""
        if self.process is not None:
            stop_process(self.process, signal.SIGINT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def exchange(self, head: bytes, body: bytes = b"", **kwargs: object) -> RawResponse:
        return exchange(self.port, head, body, **kwargs)

    def request(self, method: str, path: str, body: bytes = b"", **kwargs: object) -> RawResponse:
        return request(self.port, method, path, body, **kwargs)

    def post(self, body: bytes, **kwargs: object) -> RawResponse:
        return self.request("POST", "/", body, **kwargs)
