"""docs/reliability.md A4, A5, A9: what a real gunicorn answers to oversize, unframed and abusive
requests, measured on raw sockets.

gunicorn 27 answers the header abuse itself, before Django: 431 for a 9 KB header and for 101
headers (its limit_request_field_size 8190 and limit_request_fields 100), 400 for a duplicate
Content-Length, Content-Length with Transfer-Encoding, and a negative Content-Length. The plan's
statuses, as measured. A bad Host reaches Django, which answers 400 (DisallowedHost).
"""

import pytest

from tests.helpers import percentile, record, row_counts, tag, varint

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

SYSTEM = "66666666-6666-4666-8666-666666666666"
POST_HEAD = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
LIMIT = 65536


def head(*lines: str, start: str = POST_HEAD) -> bytes:
    return (start + "".join(f"{line}\r\n" for line in lines) + "\r\n").encode("latin-1")


def test_declared_oversize_gets_413_before_any_body_byte_is_sent(gunicorn):
    # Warm every worker first: the figure is the steady state, not a worker's first request.
    for _ in range(2 * gunicorn.workers):
        gunicorn.exchange(head(f"Content-Length: {LIMIT + 1}"), timeout=5)
    seconds = []
    for declared in (LIMIT + 1, 10 * 2**20, 2**30):
        for _ in range(20):
            # Only the headers go out; the answer must come without the server waiting for more.
            response = gunicorn.exchange(head(f"Content-Length: {declared}"), timeout=5)
            assert (response.status, response.text) == (413, f"report larger than {LIMIT} bytes")
            seconds.append(response.seconds)
    p99, slowest = percentile(seconds, 0.99), max(seconds)
    record(
        "A4 oversize",
        f"413 for CL = limit+1, 10 MB, 1 GB (60 requests, headers only): end of headers to "
        f"answer p99 {p99 * 1000:.1f} ms, max {slowest * 1000:.1f} ms; 0 body bytes sent",
    )
    assert p99 < 0.050
    assert row_counts() == (0, 0, 0)


def test_a_body_of_exactly_the_limit_is_stored(gunicorn, telemetry):
    body = telemetry(SYSTEM)
    # Pad with unknown field 100 (length-delimited) so the body is exactly LIMIT bytes.
    overhead = len(tag(100, 2)) + len(varint(LIMIT))
    body += tag(100, 2) + varint(LIMIT - len(body) - overhead)
    body += b"x" * (LIMIT - len(body))
    assert len(body) == LIMIT
    response = gunicorn.post(body)
    assert (response.status, response.text) == (200, "stored")
    assert row_counts() == (1, 1, 2)


def test_a_chunked_body_without_content_length_gets_411(gunicorn, telemetry):
    body = telemetry(SYSTEM)
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    response = gunicorn.exchange(head("Transfer-Encoding: chunked"), chunked)
    assert (response.status, response.text) == (411, "Content-Length required")
    assert row_counts() == (0, 0, 0)


def test_an_http_1_0_post_without_content_length_gets_411(gunicorn, telemetry):
    start = "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\n"
    response = gunicorn.exchange(head(start=start), telemetry(SYSTEM))
    assert (response.status, response.text) == (411, "Content-Length required")
    assert row_counts() == (0, 0, 0)


HEADER_ABUSE = [
    # (id, head lines, status gunicorn answers)
    ("9 KB header", ["X-Padding: " + "a" * 9 * 1024, "Content-Length: {n}"], 431),
    ("101 headers", [f"X-Header-{i}: v" for i in range(101)] + ["Content-Length: {n}"], 431),
    ("duplicate Content-Length", ["Content-Length: {n}", "Content-Length: {n}"], 400),
    ("Content-Length and chunked", ["Content-Length: {n}", "Transfer-Encoding: chunked"], 400),
    ("negative Content-Length", ["Content-Length: -1"], 400),
]


@pytest.mark.parametrize(
    ("lines", "status"),
    [case[1:] for case in HEADER_ABUSE],
    ids=[case[0] for case in HEADER_ABUSE],
)
def test_gunicorn_refuses_header_abuse_before_django(request, gunicorn, telemetry, lines, status):
    body = telemetry(SYSTEM)
    response = gunicorn.exchange(head(*(line.format(n=len(body)) for line in lines)), body)
    record(f"A9 {request.node.callspec.id}", f"{response.status} {response.reason}")
    assert response.status == status
    assert response.text  # gunicorn's own page says what is wrong
    assert row_counts() == (0, 0, 0)


def test_a_host_not_in_allowed_hosts_gets_400_from_django(gunicorn, telemetry):
    body = telemetry(SYSTEM)
    start = "POST / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n"
    response = gunicorn.exchange(head(f"Content-Length: {len(body)}", start=start), body)
    assert response.status == 400
    assert "Bad Request" in response.text
    assert row_counts() == (0, 0, 0)
