"""A3: coverage-guided fuzzing of the report parser (decode + validate) with atheris.

Runs libFuzzer through atheris in a child process for --seconds (default 10 minutes), with the
real pulpcore reports of tests/fixtures as the seed corpus and our Python code instrumented. The
target is `pulpanalytics.ingest.parse_report`: any exception other than InvalidReport is a crash;
an input that takes more than 100 ms of CPU is a hang. Prints executions, crashes, hangs, the
slowest input, coverage edges and the corpus size. Needs atheris (requirements-stress.txt).
Pass: 0 crashes and 0 hangs.
"""

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import BENCH_ENV, PYTHON, ROOT
from bench.reliability.scenario import Outcome, main

HANG_SECONDS = 0.1


def target() -> None:
    """The child: libFuzzer's loop over parse_report (argv: libFuzzer options; env: paths)."""
    import atheris

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    # Instrument before Django's set-up imports our modules (an imported module stays as it is).
    with atheris.instrument_imports(include=["pulpanalytics", "google.protobuf"]):
        import django

        django.setup()
        from pulpanalytics.ingest import InvalidReport, parse_report
        from pulpanalytics.telemetry_pb2 import Telemetry

    slow_file = Path(os.environ["A3_SLOW_FILE"])
    state = {"slowest": 0.0, "hangs": 0}

    def structured(data: bytes) -> bytes:
        """A well-formed Telemetry built from the fuzzer's bytes: reaches the validation rules
        that random bytes rarely get past the decoder to (a home-made structure-aware mode)."""
        fuzzed = atheris.FuzzedDataProvider(data)
        # A valid id half the time, so the component rules behind the id check are reached.
        system_id = (
            "0f8fad5b-d9cb-469f-a165-70867728950e"
            if fuzzed.ConsumeBool()
            else fuzzed.ConsumeUnicodeNoSurrogates(40)
        )
        report = Telemetry(system_id=system_id)
        for _ in range(fuzzed.ConsumeIntInRange(0, 12)):
            report.components.add(
                name=fuzzed.ConsumeUnicodeNoSurrogates(fuzzed.ConsumeIntInRange(0, 300)),
                version=fuzzed.ConsumeUnicodeNoSurrogates(fuzzed.ConsumeIntInRange(0, 300)),
            )
        if fuzzed.ConsumeBool():
            report.online_workers.processes = fuzzed.ConsumeIntInRange(0, 2**32 - 1)
            report.online_workers.hosts = fuzzed.ConsumeIntInRange(0, 2**32 - 1)
        if fuzzed.ConsumeBool():
            report.postgresql_version = fuzzed.ConsumeIntInRange(0, 2**32 - 1)
        return report.SerializePartialToString() + fuzzed.ConsumeBytes(64)

    def one(data: bytes) -> None:
        # Half the inputs are raw bytes, half are built from the bytes as a message.
        if data[:1] == b"S":
            data = structured(data[1:])
        # CPU time, not wall time: a hang is the input's doing, not the scheduler's (the
        # machine may be busy with other scenarios).
        start = time.process_time()
        with contextlib.suppress(InvalidReport):
            parse_report(data)
        took = time.process_time() - start
        if took > state["slowest"] or took > HANG_SECONDS:
            state["slowest"] = max(state["slowest"], took)
            state["hangs"] += took > HANG_SECONDS
            # libFuzzer ends the process with exit(): write the figures as they change.
            slow_file.write_text(json.dumps({**state, "input_hex": data[:256].hex()}))

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


def seed_corpus(directory: Path) -> int:
    lines = (ROOT / "tests/fixtures/pulpcore-reports.jsonl").read_text().splitlines()
    for number, line in enumerate(lines):
        (directory / f"fixture-{number}").write_bytes(bytes.fromhex(json.loads(line)["body_hex"]))
    return len(lines)


def last_status(output: str) -> dict[str, int]:
    """Executions, coverage edges and corpus size from libFuzzer's last status line."""
    figures = {"execs": 0, "cov": 0, "corpus": 0}
    for line in output.splitlines():
        if match := re.match(r"#(\d+)\s+\S+\s+cov: (\d+) ft: \d+ corp: (\d+)/", line):
            figures = {
                "execs": int(match[1]),
                "cov": int(match[2]),
                "corpus": int(match[3]),
            }
        elif match := re.match(r"Done (\d+) runs", line):
            figures["execs"] = int(match[1])
    return figures


def run(args) -> Outcome:
    try:
        import atheris  # noqa: F401
    except ImportError:
        raise SystemExit("A3 needs atheris: pip install -r requirements-stress.txt") from None
    with tempfile.TemporaryDirectory(prefix="pulpanalytics-a3-") as temp:
        corpus, artifacts = Path(temp, "corpus"), Path(temp, "artifacts")
        corpus.mkdir()
        artifacts.mkdir()
        seeds = seed_corpus(corpus)
        slow_file = Path(temp, "slow.json")
        started = time.monotonic()
        result = subprocess.run(
            [
                PYTHON,
                "-m",
                "bench.reliability.a3_fuzz_parser",
                "--child",
                f"-max_total_time={args.seconds}",
                f"-timeout={args.timeout}",
                "-rss_limit_mb=2048",
                "-max_len=4096",
                f"-artifact_prefix={artifacts}/",
                "-print_final_stats=1",
                str(corpus),
            ],
            cwd=ROOT,
            env={**os.environ, **BENCH_ENV, "A3_SLOW_FILE": str(slow_file)},
            capture_output=True,
            text=True,
            timeout=args.seconds + 120,
        )
        wall = time.monotonic() - started
        output = result.stdout + result.stderr
        status = last_status(output)
        slow = json.loads(slow_file.read_text()) if slow_file.exists() else {"slowest": 0.0}
        crashes = sorted(p.name for p in artifacts.iterdir() if not p.name.startswith("slow-"))
        timeouts = sum(1 for name in crashes if name.startswith("timeout-"))
        corpus_size = len(list(corpus.iterdir()))
        hangs = slow.get("hangs", 0) + timeouts
        real_crashes = len(crashes) - timeouts
        if result.returncode != 0 and not crashes:
            real_crashes += 1  # died without an artifact (e.g. a fatal signal)
    detail = ""
    if real_crashes or result.returncode != 0:
        detail = "\n".join(output.splitlines()[-40:])
    return Outcome(
        id="A3",
        scenario=f"atheris (libFuzzer) on parse_report for {args.seconds} s",
        figure=f"{real_crashes} crashes, {hangs} hangs > {HANG_SECONDS * 1000:.0f} ms in "
        f"{status['execs']:,} executions ({wall:.0f} s); slowest input "
        f"{slow['slowest'] * 1000:.2f} ms; {status['cov']} coverage edges; corpus "
        f"{corpus_size} ({seeds} seeds)",
        passed=real_crashes == 0 and hangs == 0 and result.returncode == 0,
        threshold="0 crashes, 0 hangs",
        detail=detail,
    )


def arguments(parser) -> None:
    parser.add_argument(
        "--seconds", type=int, default=600, help="fuzzing time (default: %(default)s)"
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=1,
        help="libFuzzer's per-input timeout in whole seconds; inputs over 100 ms are counted "
        "as hangs by the target itself (default: %(default)s)",
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.argv = [sys.argv[0], *sys.argv[2:]]
        target()
    else:
        main(run, __doc__, arguments)
