"""The load side of the tier 2 scenarios: report bodies, one raw HTTP/1.1 request, open-loop
traffic at a fixed rate, and the figures drawn from the answers.

Every request opens its own connection (as a pulpcore installation does once a day) and carries
a deadline, so a hung server shows up as a `timeout`, never as a hung scenario.
"""

import asyncio
import hashlib
import hmac
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bench.common import BENCH_ENV, percentile, query
from bench.ingest import report_body
from bench.server import request_async

INVALID_BODIES = (b"\xff\xfe garbage", b"\x0a\x03abc", b"\x08\x96\x01")


@dataclass
class Sent:
    """One body to POST: `system` is its system_id when it is a valid report, else None."""

    body: bytes
    system: str | None
    kind: str  # new | duplicate | invalid
    headers: tuple[tuple[str, str], ...] = ()  # this client's own, e.g. its X-Forwarded-For


@dataclass
class Answer:
    """What came back: status (an int, or 'timeout' / 'error:<name>'), timing and headers."""

    sent: Sent | None
    status: int | str
    started: float  # seconds since the load began
    latency: float  # seconds from the planned send time (open loop) to the full answer
    retry_after: str | None = None
    text: str = ""

    @property
    def ok(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 300

    @property
    def failed(self) -> bool:
        """A 5xx, a timeout or a broken connection: what an error rate counts."""
        return not isinstance(self.status, int) or self.status >= 500


def report(rnd: random.Random, number: int) -> Sent:
    """A valid report of a new system (report_body's layout, with its id known)."""
    body = report_body(rnd, number)
    from pulpanalytics.telemetry_pb2 import Telemetry

    parsed = Telemetry()
    parsed.ParseFromString(body)
    return Sent(body, parsed.system_id, "new")


def mix(count: int, *, seed: int, first: int, duplicate: float = 0.0, invalid: float = 0.0) -> list:
    """`count` bodies: the given shares of duplicates (of a body sent earlier) and of invalid
    bodies, the rest reports of new systems numbered from `first`."""
    rnd = random.Random(seed)
    bodies: list[Sent] = []
    number = first
    for index in range(count):
        roll = rnd.random()
        if roll < invalid:
            bodies.append(Sent(rnd.choice(INVALID_BODIES), None, "invalid"))
        elif roll < invalid + duplicate and any(b.kind == "new" for b in bodies[: index // 2]):
            earlier = rnd.choice([b for b in bodies[: max(index // 2, 1)] if b.kind == "new"])
            bodies.append(Sent(earlier.body, earlier.system, "duplicate"))
        else:
            bodies.append(report(rnd, number))
            number += 1
    return bodies


async def request(
    port: int,
    body: bytes | None,
    *,
    method: str = "POST",
    path: str = "/",
    headers: Sequence[tuple[str, str]] = (),
    timeout: float = 10.0,
) -> tuple[int | str, str | None, str]:
    """(status, Retry-After, body text) of one request; a timeout or a broken connection is
    reported as the status ('timeout', 'error:<name>')."""
    try:
        response = await request_async(
            port, method, path, body or b"", headers=headers, timeout=timeout
        )
    except TimeoutError:
        return "timeout", None, ""
    except OSError as error:
        return f"error:{type(error).__name__}", None, ""
    return response.status, response.headers.get("retry-after"), response.text


async def open_loop(
    port: int,
    bodies: Iterable[Sent],
    rate: float,
    *,
    timeout: float = 10.0,
    headers: Sequence[tuple[str, str]] = (),
) -> list[Answer]:
    """Send body i at i / rate seconds, whatever the server does (no coordinated omission:
    latency counts from the planned send time)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    answers: list[Answer] = []

    async def one(index: int, sent: Sent) -> None:
        planned = start + index / rate
        await asyncio.sleep(max(0.0, planned - loop.time()))
        status, retry_after, text = await request(
            port, sent.body, timeout=timeout, headers=(*headers, *sent.headers)
        )
        answers.append(
            Answer(sent, status, planned - start, loop.time() - planned, retry_after, text)
        )

    await asyncio.gather(*(one(index, sent) for index, sent in enumerate(bodies)))
    answers.sort(key=lambda answer: answer.started)
    return answers


async def closed_loop(
    port: int, bodies: Sequence[Sent], concurrency: int, *, timeout: float = 10.0
) -> list[Answer]:
    """`concurrency` clients, each sending its next body as soon as the last one was answered."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    queue = iter(bodies)
    answers: list[Answer] = []

    async def client() -> None:
        for sent in queue:
            began = loop.time()
            status, retry_after, text = await request(
                port, sent.body, timeout=timeout, headers=sent.headers
            )
            answers.append(
                Answer(sent, status, began - start, loop.time() - began, retry_after, text)
            )

    await asyncio.gather(*(client() for _ in range(concurrency)))
    answers.sort(key=lambda answer: answer.started)
    return answers


@dataclass
class Figures:
    """The usual figures of a batch of answers."""

    requests: int
    statuses: Counter = field(default_factory=Counter)
    failed: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    missing_retry_after: int = 0  # 429/503 answers without Retry-After

    @property
    def error_rate(self) -> float:
        return self.failed / self.requests if self.requests else 0.0

    def histogram(self) -> str:
        return ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items(), key=str))


def figures(answers: Sequence[Answer]) -> Figures:
    latencies = [answer.latency for answer in answers]
    return Figures(
        requests=len(answers),
        statuses=Counter(answer.status for answer in answers),
        failed=sum(answer.failed for answer in answers),
        p50_ms=percentile(latencies, 0.50) * 1000 if latencies else 0.0,
        p99_ms=percentile(latencies, 0.99) * 1000 if latencies else 0.0,
        max_ms=max(latencies, default=0.0) * 1000,
        missing_retry_after=sum(1 for a in answers if a.status in (429, 503) and not a.retry_after),
    )


def acked_systems(answers: Iterable[Answer]) -> set[str]:
    """System ids the server acknowledged as stored (200 "stored" or "duplicate")."""
    return {
        a.sent.system
        for a in answers
        if a.sent is not None
        and a.sent.system
        and a.status == 200
        and not a.text.startswith("ignored")
    }


def system_hash(system: str) -> str:
    """The registry's hash of a system id under the benchmarks' SECRET_KEY (settings.py's
    SYSTEM_ID_KEY derivation), so a script can check which acknowledged systems were stored."""
    key = hmac.new(
        BENCH_ENV["SECRET_KEY"].encode(), b"pulpanalytics.system_id", hashlib.sha256
    ).hexdigest()
    return hmac.new(key.encode(), system.lower().encode(), hashlib.sha256).hexdigest()


def stored_hashes(url: str) -> set[str]:
    """The system hashes that have a raw report row in the database at `url`."""
    rows = query(
        url,
        "SELECT s.system_hash FROM pulpanalytics_report r "
        "JOIN pulpanalytics_system s ON s.id = r.system_id",
    )
    return {system_hash for (system_hash,) in rows}


def lost_acks(url: str, answers: Iterable[Answer]) -> int:
    """Acknowledged systems with no stored row: what must always be 0."""
    stored = stored_hashes(url)
    return sum(1 for system in acked_systems(answers) if system_hash(system) not in stored)


def monotonic_ms() -> float:
    return time.monotonic() * 1000
