"""The app server's entry point: gunicorn's asyncio worker (gunicorn.conf.py) serves `app.asgi`.

Django stays a WSGI application (app/wsgi.py); this module puts it behind an event loop so that
a slow client costs a coroutine, not a worker:

- the whole request body is read first, asynchronously, within BODY_TIMEOUT_SECONDS (else 408)
  and up to MAX_REPORT_BYTES, the largest body the site takes (a larger declared body is never
  read: Django answers from the headers, the report view with its 413; a chunked body growing
  past it gets 413 here);
- then Django runs in a small fixed pool of threads per worker. The threads live as long as the
  worker, so each keeps its database connection (CONN_MAX_AGE), which Django's own ASGI handler,
  a fresh thread per request, would not;
- the answer goes out asynchronously, read from Django's response in batches, so a client that
  reads slowly holds neither a thread nor the whole of a large file in memory.

This module itself answers only 408 and 413; a 500 comes from Django (or, for an exception that
escapes Django's handler, from gunicorn, which logs its traceback). A request still in Django
after REQUEST_TIMEOUT_SECONDS is logged and the worker stopped gracefully (SIGTERM to itself):
gunicorn starts a fresh one, as its arbiter did for a sync worker stuck that long (`timeout`).
"""

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import unquote_to_bytes

from django.conf import settings

from app.wsgi import application as django_application

logger = logging.getLogger(__name__)

# Threads running Django per gunicorn worker, so database connections per pod are
# WEB_CONCURRENCY x THREADS. Two let one request wait on PostgreSQL while another runs Python;
# Django holds the GIL for the rest, so more would mostly add connections.
THREADS = 2
# A report is under 64 KB; even a slow mobile link sends it in well under a second.
BODY_TIMEOUT_SECONDS = 10.0
# As gunicorn.conf.py's `timeout`: a request this long in Django means something is stuck.
REQUEST_TIMEOUT_SECONDS = 30.0
# Bytes of a response taken from Django per trip to a thread (a static file comes in 4 KB blocks).
BATCH_BYTES = 65536

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


@dataclass
class Started:
    """What a pool thread hands back after calling Django: the head and the first batch."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    rest: Iterator[bytes] | None  # None: the response is complete and closed
    result: Iterable[bytes]  # whose close() ends the request for Django (request_finished)


class BodyRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WsgiOverAsyncio:
    """An ASGI application serving a WSGI one from a fixed pool of threads (see the module)."""

    def __init__(
        self,
        wsgi: WsgiApp,
        *,
        threads: int = THREADS,
        max_body_bytes: int,
        body_timeout: float = BODY_TIMEOUT_SECONDS,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        self.wsgi = wsgi
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.request_timeout = request_timeout
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="django")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        else:  # a WebSocket: refused (gunicorn answers 403)
            await send({"type": "websocket.close", "code": 1000})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Not waiting: a stuck thread must not hold the worker's exit.
                self.pool.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        declared = _content_length(headers)
        unread = declared is not None and declared > self.max_body_bytes
        if unread:
            body = b""  # Django answers from the headers; the connection closes after it
        else:
            try:
                async with asyncio.timeout(self.body_timeout):
                    body = await self.read_body(receive)
            except TimeoutError:
                seconds = f"{self.body_timeout:g}"
                await _refuse(send, 408, f"request body not received within {seconds} s")
                return
            except BodyRefused as refused:
                await _refuse(send, refused.status, refused.message)
                return
            if body is None:
                return  # the client left
        environ = wsgi_environ(scope, body)
        loop = asyncio.get_running_loop()
        started = await self.call_django(loop, environ)
        headers = [*started.headers, (b"connection", b"close")] if unread else started.headers
        await send({"type": "http.response.start", "status": started.status, "headers": headers})
        rest = started.rest
        try:
            more = rest is not None
            await send({"type": "http.response.body", "body": started.body, "more_body": more})
            while rest is not None:
                batch, done = await loop.run_in_executor(self.pool, next_batch, rest)
                await send({"type": "http.response.body", "body": batch, "more_body": not done})
                if done:
                    rest = None
                    await loop.run_in_executor(self.pool, close, started.result)
        finally:
            if rest is not None:  # the send failed or was cancelled: Django's close() still runs
                self.pool.submit(close, started.result)

    async def read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None when the client disconnects first."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyRefused(413, f"request body larger than {self.max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def call_django(self, loop: asyncio.AbstractEventLoop, environ: dict) -> Started:
        # From when a thread takes the request: a wait in the pool's queue (an overload) is not a
        # stuck request, and stopping the worker for it would make the overload worse.
        began: list[float] = []

        def run() -> Started:
            began.append(time.monotonic())
            return call_wsgi(self.wsgi, environ, environ["REQUEST_METHOD"] == "HEAD")

        future = loop.run_in_executor(self.pool, run)
        reported = False
        while True:
            done, _ = await asyncio.wait({future}, timeout=min(1.0, self.request_timeout))
            if done:
                return future.result()
            if not reported and began and time.monotonic() - began[0] > self.request_timeout:
                reported = True
                logger.error(
                    "request in Django for more than %g s, stopping this worker: %s %s",
                    self.request_timeout,
                    environ["REQUEST_METHOD"],
                    environ["PATH_INFO"],
                )
                os.kill(os.getpid(), signal.SIGTERM)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    # gunicorn has refused a malformed or repeated Content-Length already.
    for name, value in headers:
        if name == b"content-length":
            return int(value)
    return None


async def _refuse(send: Send, status: int, message: str) -> None:
    body = f"{message}\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body may still be on its way: nothing more is read from it.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def wsgi_environ(scope: Scope, body: bytes) -> dict:
    """PEP 3333's environ for an ASGI HTTP scope, as gunicorn's sync worker builds it."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    raw_path = scope.get("raw_path") or scope["path"].encode()
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", ""),
        # WSGI strings are bytes as latin-1: Django decodes the path as UTF-8 from them.
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "REMOTE_ADDR": client[0] if client else "",
        "REMOTE_PORT": str(client[1]) if client else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope["scheme"],
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope["headers"]:
        key = name.decode("latin-1").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
        text = value.decode("latin-1")
        # A repeated header is one field with its values joined (RFC 9110 section 5.3).
        environ[key] = f"{environ[key]},{text}" if key in environ else text
    return environ


def call_wsgi(wsgi: WsgiApp, environ: dict, head_only: bool) -> Started:
    """In a pool thread: Django's answer, its first batch, and close() if that is all of it."""
    head: list = []

    def start_response(status: str, headers: list, exc_info: object = None) -> Callable:
        head[:] = [status, headers]
        return _no_write

    result = wsgi(environ, start_response)
    rest = iter(result)
    try:
        body, done = (b"", True) if head_only else next_batch(rest)
    except BaseException:
        close(result)
        raise
    if done:
        close(result)
    status, headers = head
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    code = int(status.split(" ", 1)[0])
    return Started(code, encoded, body, None if done else rest, result)


def _no_write(data: bytes) -> None:
    raise NotImplementedError("write() of PEP 3333 is not supported; return an iterable")


def next_batch(rest: Iterator[bytes]) -> tuple[bytes, bool]:
    """(up to about BATCH_BYTES of the response, whether the response is exhausted)."""
    batch, size = [], 0
    for chunk in rest:
        batch.append(chunk)
        size += len(chunk)
        if size >= BATCH_BYTES:
            return b"".join(batch), False
    return b"".join(batch), True


def close(result: Iterable[bytes]) -> None:
    if hasattr(result, "close"):
        result.close()


# The largest body the site takes is a report; an admin form is a few hundred bytes.
application = WsgiOverAsyncio(django_application, max_body_bytes=settings.MAX_REPORT_BYTES)
