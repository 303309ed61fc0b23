"""docs/reliability.md A1 and A2: no input makes decoding, validation or the POST view fail.

FUZZ_SCALE (default 1) multiplies the number of examples: tier 2 runs FUZZ_SCALE=5 for the
plan's 100,000 inputs of each kind. Derandomized and without an example database, so every run
tries the same inputs and a failure reproduces.
"""

import json
import os
import random
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pulpanalytics import ingest
from pulpanalytics.models import Report
from tests.fuzz_strategies import bit_flips, mutate, random_bytes, telemetry_bodies, truncations
from tests.helpers import percentile, record

FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
REJECTIONS = {
    "empty",
    "undecodable",
    "missing_field",
    "bad_system_id",
    "bad_component",
    "duplicate_component",
    "too_many_components",
}
ONE_MILLISECOND_NS = 1_000_000


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples * FUZZ_SCALE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.function_scoped_fixture,
        ],
    )


def decode_and_validate(body: bytes) -> str:
    """Everything ingest does with a body before the database: "accepted" or the rule broken."""
    try:
        report = ingest.parse_report(body)
    except ingest.InvalidReport as invalid:
        return invalid.reason
    json.dumps(ingest.report_data(report))
    ingest.development_version(report)
    return "accepted"


class Tally:
    """Outcomes and time per input; any exception but InvalidReport fails with the body."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.nanoseconds: list[int] = []

    def feed(self, body: bytes) -> None:
        start = time.perf_counter_ns()
        try:
            outcome = decode_and_validate(body)
        except Exception as error:
            raise AssertionError(f"{error!r} for body {body.hex()}") from error
        self.nanoseconds.append(time.perf_counter_ns() - start)
        self.outcomes[outcome] += 1

    def figure(self) -> str:
        p99 = percentile(self.nanoseconds, 0.99) / 1000
        slowest = max(self.nanoseconds) / 1000
        return (
            f"{sum(self.outcomes.values()):,} inputs, 0 unexpected exceptions, "
            f"p99 {p99:.1f} µs, max {slowest:.1f} µs per input; {dict(self.outcomes.most_common())}"
        )


def test_parser_accepts_or_rejects_every_random_byte_string():
    tally = Tally()

    # Hypothesis's own bytes lean to edge cases (empty, zeros, tiny); the seeded uniform ones
    # cover the rest. Ten inputs per example keep 20,000 inputs to about a second.
    @fuzz(examples=2_000)
    @given(body=st.binary(max_size=2048), seed=st.integers(0, 2**32 - 1))
    def run(body: bytes, seed: int) -> None:
        rng = random.Random(seed)
        for candidate in [body, *(random_bytes(rng) for _ in range(9))]:
            tally.feed(candidate)

    run()
    record("A1 random bytes", tally.figure())
    assert sum(tally.outcomes.values()) >= 20_000 * FUZZ_SCALE
    assert set(tally.outcomes) <= REJECTIONS | {"accepted"}
    assert tally.outcomes["undecodable"] > 0
    assert percentile(tally.nanoseconds, 0.99) < ONE_MILLISECOND_NS


def test_parser_accepts_or_rejects_every_mutation_of_valid_messages():
    tally = Tally()

    @fuzz(examples=20)
    @given(base=telemetry_bodies(), other=telemetry_bodies(), seed=st.integers(0, 2**32 - 1))
    def run(base: bytes, other: bytes, seed: int) -> None:
        rng = random.Random(seed)
        mutations = [mutate(base, other, rng) for _ in range(700)]
        for candidate in [base, *truncations(base), *bit_flips(base), *mutations]:
            tally.feed(candidate)

    run()
    record("A1 mutations", tally.figure())
    assert sum(tally.outcomes.values()) >= 20_000 * FUZZ_SCALE
    assert set(tally.outcomes) <= REJECTIONS | {"accepted"}
    # Both sides are reached: mutations that keep a valid report, and each kind of rejection
    # the wire can produce.
    assert tally.outcomes["accepted"] > 0
    for reason in ("empty", "undecodable", "missing_field", "bad_system_id", "bad_component"):
        assert tally.outcomes[reason] > 0, reason
    assert percentile(tally.nanoseconds, 0.99) < ONE_MILLISECOND_NS


@pytest.mark.django_db
def test_http_fuzz_never_answers_5xx_and_stores_rows_only_for_stored_reports(client, settings):
    # The limits have their own tests; here 2,000 posts from one address must not meet them.
    settings.REPORT_RATE_LIMIT = 0
    settings.NEW_SYSTEM_RATE_LIMIT = 0
    statuses: Counter[int] = Counter()
    answers: Counter[str] = Counter()
    seconds: list[float] = []
    previous: list[bytes] = []

    def post(body: bytes) -> None:
        start = time.perf_counter()
        response = client.generic("POST", "/", body, content_type="", CONTENT_LENGTH=str(len(body)))
        seconds.append(time.perf_counter() - start)
        text = response.content.decode()
        assert response.status_code < 500, (response.status_code, text, body.hex())
        assert text, (response.status_code, body.hex())
        statuses[response.status_code] += 1
        if response.status_code == 200:
            answers[text.split(":")[0]] += 1

    @fuzz(examples=100)
    @given(base=telemetry_bodies(), other=telemetry_bodies(), seed=st.integers(0, 2**32 - 1))
    def run(base: bytes, other: bytes, seed: int) -> None:
        rng = random.Random(seed)
        # 20 bodies per example: the valid one, a repeat of an earlier one (a duplicate if it
        # was stored), mutations, truncations and plain random bytes.
        bodies = [base, rng.choice(previous) if previous else other, other]
        bodies += [mutate(base, other, rng) for _ in range(11)]
        bodies += [base[: rng.randint(0, len(base))] for _ in range(3)]
        bodies += [random_bytes(rng) for _ in range(3)]
        for body in bodies:
            post(body)
        previous.append(base)

    run()
    posts = sum(statuses.values())
    p99 = percentile(seconds, 0.99) * 1000
    record(
        "A2 HTTP fuzz",
        f"{posts:,} posts, 0 x 5xx, statuses {dict(statuses)}, answers {dict(answers)}, "
        f"rows - stored = 0, p99 view {p99:.1f} ms",
    )
    assert posts == 2_000 * FUZZ_SCALE
    assert set(statuses) <= {200, 400}
    # Exactly one raw row per "stored" answer: no rejected, ignored or duplicate body wrote one.
    assert Report.objects.count() == answers["stored"]
    assert answers["stored"] > 0 and answers["duplicate"] > 0 and statuses[400] > 0
