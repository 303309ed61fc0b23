"""app/asgi.py: the ASGI front of Django, driven in-process with a WSGI app that records its calls.

Live: gunicorn's worker, slow clients and Django itself, in tests/test_slow_clients.py.
"""

import asyncio
import io
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.asgi import WsgiOverAsyncio, wsgi_environ

CAP = 100


class Recorder:
    """A WSGI app: answers 200 with `chunks`, records the environ, the body and the threads."""

    def __init__(self, chunks: list[bytes] | None = None) -> None:
        self.chunks = [b"hello"] if chunks is None else chunks
        self.environ: dict = {}
        self.body = b""
        self.threads: list[str] = []
        self.closed_in: str | None = None

    def __call__(self, environ: dict, start_response) -> "Answer":
        self.environ = environ
        self.body = environ["wsgi.input"].read()
        self.threads.append(threading.current_thread().name)
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Seen", "yes")])
        return Answer(self)


class Answer:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.recorder.chunks:
            self.recorder.threads.append(threading.current_thread().name)
            yield chunk

    def close(self) -> None:
        self.recorder.closed_in = threading.current_thread().name


def scope(method: str = "POST", headers: list[tuple[bytes, bytes]] = ()) -> dict:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/über",
        "raw_path": b"/%C3%BCber",
        "query_string": b"a=1&b=%20",
        "root_path": "",
        "headers": list(headers),
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.9", 40000),
    }


def run(coroutine: Coroutine) -> None:
    """asyncio.run in a thread of its own: the browser tests' Playwright (sync API) keeps an
    event loop running in the main thread for the whole session."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, coroutine).result()


def serve(
    app: WsgiOverAsyncio, the_scope: dict, body: list[tuple[float, bytes]] = (), *, last=True
) -> list[dict]:
    """Run one request: `body` is (seconds to wait, chunk) pairs; returns what the app sent."""
    sent: list[dict] = []
    pending = list(body)

    async def receive() -> dict:
        if not pending:
            return {"type": "http.request", "body": b"", "more_body": False}
        delay, chunk = pending.pop(0)
        await asyncio.sleep(delay)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending) or not last}

    async def send(message: dict) -> None:
        sent.append(message)

    run(app(the_scope, receive, send))
    return sent


def answer(sent: list[dict]) -> tuple[int, dict[bytes, bytes], bytes]:
    start, *bodies = sent
    assert start["type"] == "http.response.start"
    assert [message.get("more_body", False) for message in bodies][-1] is False
    return start["status"], dict(start["headers"]), b"".join(m["body"] for m in bodies)


def front(wsgi: Recorder, **options: float) -> WsgiOverAsyncio:
    return WsgiOverAsyncio(wsgi, threads=2, max_body_bytes=CAP, **options)


def test_the_whole_body_reaches_django_as_wsgi_input_with_the_request_as_gunicorn_gives_it():
    django = Recorder()
    headers = [
        (b"content-length", b"6"),
        (b"content-type", b"application/x-protobuf"),
        (b"x-forwarded-for", b"10.0.0.1"),
        (b"x-forwarded-for", b"10.0.0.2"),
        (b"host", b"example.org"),
    ]
    sent = serve(front(django), scope(headers=headers), [(0, b"abc"), (0.01, b"def")])
    assert answer(sent) == (200, {b"content-type": b"text/plain", b"x-seen": b"yes"}, b"hello")
    assert django.body == b"abcdef"
    environ = django.environ
    assert environ["REQUEST_METHOD"] == "POST"
    # PEP 3333: the percent-decoded path as latin-1 characters of its UTF-8 bytes.
    assert environ["PATH_INFO"] == "/\xc3\xbcber"
    assert environ["QUERY_STRING"] == "a=1&b=%20"
    assert (environ["CONTENT_LENGTH"], environ["CONTENT_TYPE"]) == ("6", "application/x-protobuf")
    assert environ["HTTP_X_FORWARDED_FOR"] == "10.0.0.1,10.0.0.2"
    assert environ["HTTP_HOST"] == "example.org"
    assert (environ["REMOTE_ADDR"], environ["SERVER_NAME"], environ["SERVER_PORT"]) == (
        "127.0.0.9",
        "127.0.0.1",
        "8080",
    )
    assert (environ["wsgi.url_scheme"], environ["SERVER_PROTOCOL"]) == ("http", "HTTP/1.1")


def test_django_runs_and_closes_its_answer_in_one_pool_thread():
    django = Recorder()
    serve(front(django), scope("GET"))
    (thread, iterated) = django.threads
    assert thread.startswith("django")
    assert iterated == thread
    assert django.closed_in == thread


def test_a_large_answer_goes_out_in_batches_and_is_closed_once_sent():
    django = Recorder([b"x" * 4096] * 40)  # 160 KB in 4 KB blocks, as a static file comes
    sent = serve(front(django), scope("GET"))
    status, _, body = answer(sent)
    assert (status, len(body)) == (200, 160 * 1024)
    # 64 KB batches: 16 + 16 + 8 blocks.
    assert [len(message["body"]) for message in sent[1:]] == [65536, 65536, 32768]
    assert django.closed_in is not None


def test_head_gets_the_status_and_headers_without_a_body():
    django = Recorder([b"x" * 4096] * 40)
    status, _, body = answer(serve(front(django), scope("HEAD")))
    assert (status, body) == (200, b"")
    assert django.closed_in is not None


def test_a_body_slower_than_the_deadline_gets_408_and_never_reaches_django():
    django = Recorder()
    slow = [(0.05, b"a")] * 10
    sent = serve(front(django, body_timeout=0.2), scope(headers=[(b"content-length", b"10")]), slow)
    status, headers, body = answer(sent)
    assert (status, body) == (408, b"request body not received within 0.2 s\n")
    assert headers[b"connection"] == b"close"
    assert django.threads == []


def test_a_chunked_body_growing_past_the_cap_gets_413_and_never_reaches_django():
    django = Recorder()
    chunks = [(0, b"x" * 60), (0, b"x" * 60)]
    sent = serve(front(django), scope(headers=[(b"transfer-encoding", b"chunked")]), chunks)
    assert answer(sent)[0::2] == (413, b"request body larger than 100 bytes\n")
    assert django.threads == []


def test_a_declared_body_over_the_cap_is_not_read_and_django_answers_from_the_headers():
    django = Recorder()
    sent = serve(
        front(django), scope(headers=[(b"content-length", b"1000000")]), [(0, b"x")], last=False
    )
    status, headers, _ = answer(sent)
    assert status == 200  # the report view answers 413 from CONTENT_LENGTH (test_live_http)
    assert (django.environ["CONTENT_LENGTH"], django.body) == ("1000000", b"")
    assert headers[b"connection"] == b"close"


def test_a_chunked_body_within_the_cap_reaches_django_without_a_content_length():
    django = Recorder()
    serve(front(django), scope(headers=[(b"transfer-encoding", b"chunked")]), [(0, b"abc")])
    assert django.body == b"abc"
    assert "CONTENT_LENGTH" not in django.environ  # the report view answers 411, as before


def test_a_request_stuck_in_django_is_logged_and_stops_the_worker(monkeypatch, caplog):
    release = threading.Event()
    signals: list[int] = []
    monkeypatch.setattr("os.kill", lambda pid, signal: signals.append(signal))

    def stuck(environ: dict, start_response) -> list[bytes]:
        release.wait(5)
        start_response("200 OK", [])
        return [b"late"]

    app = WsgiOverAsyncio(stuck, threads=1, max_body_bytes=CAP, request_timeout=0.1)
    threading.Timer(0.5, release.set).start()
    sent = serve(app, scope("GET"))
    assert answer(sent)[2] == b"late"
    assert len(signals) == 1  # SIGTERM: gunicorn's worker stops gracefully and is replaced
    assert "request in Django for more than 0.1 s, stopping this worker: GET /\xc3\xbcber" in (
        caplog.text
    )


def test_a_request_waiting_for_a_busy_pool_is_not_taken_for_a_stuck_one(monkeypatch):
    signals: list[int] = []
    monkeypatch.setattr("os.kill", lambda pid, signal: signals.append(signal))

    def quarter_second(environ: dict, start_response) -> list[bytes]:
        threading.Event().wait(0.25)
        start_response("200 OK", [])
        return [b"done"]

    app = WsgiOverAsyncio(quarter_second, threads=1, max_body_bytes=CAP, request_timeout=0.4)
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    async def three_at_once() -> None:
        await asyncio.gather(*(app(scope("GET"), receive, send) for _ in range(3)))

    run(three_at_once())  # the last waits 0.5 s for the one thread, then runs 0.25 s
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200, 200, 200]
    assert signals == []


def test_lifespan_startup_and_shutdown_are_acknowledged():
    app = front(Recorder())
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    run(app({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.mark.parametrize(("scheme", "client"), [("https", None), ("http", ("::1", 5))])
def test_the_environ_takes_scheme_and_client_from_the_scope(scheme, client):
    the_scope = {**scope(), "scheme": scheme, "client": client}
    environ = wsgi_environ(the_scope, b"")
    assert environ["wsgi.url_scheme"] == scheme
    assert environ["REMOTE_ADDR"] == (client[0] if client else "")
    assert isinstance(environ["wsgi.input"], io.BytesIO)
