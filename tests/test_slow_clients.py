"""A real gunicorn with gunicorn.conf.py: slow clients, forwarded headers, addresses in its logs.

Two workers, as in production, and no proxy in front: the app server itself must keep
answering while clients send a body or read an answer one byte at a time (bench/reliability/
g5_slow_clients.py measures it at length, before and after). With the sync workers it had before,
each slow connection held a whole worker and the probes below timed out.
"""

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.helpers import percentile, record

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

SLOW_CONNECTIONS = 50
PROBES = 10
PROBE_DEADLINE_SECONDS = 5
# 205 KB, served by whitenoise in 4 KB blocks (no Accept-Encoding: the uncompressed file).
LARGE_ANSWER = "/static/vendor/chart.js/chart.umd.js"
IPV4_RE = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")


def probe_healthz(server) -> list[float | None]:
    """GET /healthz PROBES times, 0.2 s apart: seconds to the answer, None if none came."""
    seconds: list[float | None] = []
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    for _ in range(PROBES):
        try:
            response = server.exchange(head, timeout=PROBE_DEADLINE_SECONDS)
        except OSError:  # the deadline passed
            seconds.append(None)
        else:
            seconds.append(response.seconds if response.status == 200 else None)
        time.sleep(0.2)
    return seconds


@contextmanager
def slow_connections(server, head: bytes, *, receive_buffer: int = 0) -> Iterator[None]:
    """SLOW_CONNECTIONS sockets that sent `head`, then one byte each every 0.5 s."""
    sockets = []
    for _ in range(SLOW_CONNECTIONS):
        sock = socket.socket()
        if receive_buffer:  # before connect(): the window offered to the server stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(head)
        sockets.append(sock)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for sock in sockets:
                try:
                    if receive_buffer:
                        sock.recv(1)
                    else:
                        sock.send(b"x")
                except OSError:
                    continue

    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        time.sleep(0.5)  # every connection is in the server's hands
        yield
    finally:
        stop.set()
        thread.join()
        for sock in sockets:
            sock.close()


def summary(seconds: list[float | None]) -> str:
    answered = [value * 1000 for value in seconds if value is not None]
    if not answered:
        return f"0/{len(seconds)} probes answered"
    return (
        f"{len(answered)}/{len(seconds)} probes answered, p50 {percentile(answered, 0.5):.0f} ms, "
        f"max {max(answered):.0f} ms"
    )


def test_healthz_answers_while_50_connections_send_their_body_a_byte_at_a_time(gunicorn_factory):
    server = gunicorn_factory(workers=2)
    head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
    with slow_connections(server, head):
        seconds = probe_healthz(server)
    record("G5 slow bodies (tier 1)", f"{SLOW_CONNECTIONS} slow bodies: {summary(seconds)}")
    assert None not in seconds


def test_healthz_answers_while_50_connections_read_a_large_answer_a_byte_at_a_time(
    gunicorn_factory,
):
    server = gunicorn_factory(workers=2)
    assert len(server.request("GET", LARGE_ANSWER).body) > 200_000
    head = f"GET {LARGE_ANSWER} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    with slow_connections(server, head, receive_buffer=4096):
        seconds = probe_healthz(server)
    record("G5 slow readers (tier 1)", f"{SLOW_CONNECTIONS} slow readers: {summary(seconds)}")
    assert None not in seconds


def test_no_client_address_is_in_any_gunicorn_log_line(gunicorn_factory, telemetry):
    server = gunicorn_factory(workers=1, LOG_LEVEL="DEBUG")
    client = "127.0.0.2"
    for head in [
        b"GARBAGE\r\n\r\n",  # an invalid request line
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    ]:
        assert server.exchange(head, source=client, timeout=5).status in {200, 400, 505}
    assert server.post(telemetry("55555555-5555-4555-8555-555555555555"), source=client).status
    server.stop()
    lines = server.log().splitlines()
    checked = [line for line in lines if "Listening at: " not in line]
    assert len(checked) >= 6
    assert client not in server.log()
    for line in checked:
        assert IPV4_RE.search(json.loads(line)["message"]) is None, line


def hsts(server, header: str) -> bool:
    """Whether GET /healthz with the given header line gets Strict-Transport-Security."""
    head = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{header}\r\n\r\n"
    response = server.exchange(head.encode(), timeout=5)
    assert response.status == 200
    return "strict-transport-security" in response.headers


def test_without_a_trusted_proxy_no_forwarded_header_makes_plain_http_count_as_https(
    gunicorn_factory,
):
    server = gunicorn_factory(workers=1, TRUSTED_PROXY_COUNT="0")
    for header in ["X-Forwarded-Proto: https", "X-Forwarded-Ssl: on", "X-Forwarded-Protocol: ssl"]:
        assert not hsts(server, header), header


def test_behind_the_router_only_its_x_forwarded_proto_counts(gunicorn_factory):
    server = gunicorn_factory(workers=1, TRUSTED_PROXY_COUNT="1")
    assert hsts(server, "X-Forwarded-Proto: https")
    assert not hsts(server, "X-Forwarded-Proto: http")
    for header in ["X-Forwarded-Ssl: on", "X-Forwarded-Protocol: ssl"]:
        assert not hsts(server, header), header
