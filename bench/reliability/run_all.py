"""`make stress`: run every tier 2 scenario of the reliability plan and write docs/reliability.md.

The two long rows that measure no latency, A3 (10 minutes of fuzzing, one core) and I4 (a
30-minute soak at 50 req/s, where only memory, descriptors and connections count), run side by
side first; then every other scenario runs alone, one after the other, so that no scenario's
latency is measured under another's load. Each outcome is kept in docs/reliability-results.json
with the time it ran; docs/reliability.md's results table is rebuilt from all kept outcomes, so
`--only` re-runs some rows and keeps the others. `--quick` runs every scenario with small sizes
(a smoke test of the scripts, about 10 minutes; its rows say so).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import PYTHON, ROOT, machine

RESULTS = ROOT / "docs/reliability-results.json"
DOCUMENT = ROOT / "docs/reliability.md"
START, END = "<!-- results: start (bench/reliability/run_all.py) -->", "<!-- results: end -->"


@dataclass(frozen=True)
class Scenario:
    id: str
    script: str
    quick: tuple[str, ...] = ()  # arguments of the --quick smoke run
    background: bool = False  # runs beside the other background scenarios, before the rest


SCENARIOS = [
    Scenario("A3", "a3_fuzz_parser.py", ("--seconds", "30"), background=True),
    Scenario("I4", "i4_soak.py", ("--seconds", "120", "--warm-up", "30"), background=True),
    Scenario("B4", "b4_kill_worker.py"),
    Scenario("C1", "c1_db_outage.py"),
    Scenario("C3", "c3_table_lock.py"),
    Scenario("C4", "c4_connections_exhausted.py"),
    Scenario("D2", "d2_kill_summarize.py", ("--trials", "5", "--days", "10")),
    Scenario("D8", "d8_prune_under_load.py"),
    Scenario("D9", "d9_summarize_scale.py", ("--systems", "100000")),
    Scenario("G1", "g1_rate_limit.py"),
    Scenario("G2", "g2_locmem_limit.py"),
    Scenario("G3", "g3_id_spray.py"),
    Scenario("G4", "g4_slowloris.py"),
    Scenario("G5", "g5_slow_clients.py", ("--seconds", "15", "--baseline", "5")),
    Scenario("I2", "i2_sustained.py"),
    Scenario("I3", "i3_midnight_burst.py"),
    Scenario("I5", "i5_invalid_mix.py"),
]


def command(scenario: Scenario, output: Path, quick: bool) -> list[str]:
    module = f"bench.reliability.{scenario.script.removesuffix('.py')}"
    return [PYTHON, "-m", module, "--json", str(output), *(scenario.quick if quick else ())]


def outcome_of(scenario: Scenario, process: subprocess.Popen, output: Path, log: Path) -> dict:
    lines = output.read_text().splitlines() if output.exists() else []
    if lines:
        return json.loads(lines[-1])
    tail = log.read_text().strip().splitlines()[-1:] if log.exists() else []
    return {
        "id": scenario.id,
        "scenario": scenario.script,
        "figure": f"the script failed (exit {process.returncode}): {' '.join(tail)[:300]}",
        "passed": False,
        "threshold": "",
        "detail": "",
    }


def run_group(scenarios: list[Scenario], quick: bool, logs: Path) -> list[dict]:
    """Start the scenarios together, wait for all; their outcomes with timing."""
    running = []
    for scenario in scenarios:
        output = logs / f"{scenario.id}.json"
        log = logs / f"{scenario.id}.log"
        print(f"== {scenario.id}: {' '.join(command(scenario, output, quick)[1:])}", flush=True)
        with log.open("w") as sink:
            process = subprocess.Popen(
                command(scenario, output, quick),
                cwd=ROOT,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        running.append((scenario, process, output, log, time.monotonic(), datetime.now(UTC)))
    outcomes = []
    for scenario, process, output, log, started, started_at in running:
        process.wait()
        outcome = outcome_of(scenario, process, output, log)
        outcome.update(
            seconds=round(time.monotonic() - started),
            ran_at=started_at.strftime("%Y-%m-%d %H:%M UTC"),
            quick=quick,
        )
        print(log.read_text().rstrip(), flush=True)
        outcomes.append(outcome)
    return outcomes


def table(results: dict) -> list[str]:
    rows = [
        "| ID | scenario | figure | result | pass rule | ran |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for scenario in SCENARIOS:
        row = results.get(scenario.id)
        if row is None:
            rows.append(f"| {scenario.id} | not run yet | | | | |")
            continue
        verdict = "PASS" if row["passed"] else "**FAIL**"
        ran = f"{row['ran_at']}, {row['seconds']} s" + (" (quick)" if row.get("quick") else "")
        cells = [row["id"], row["scenario"], row["figure"], verdict, row["threshold"], ran]
        rows.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return rows


def render(results: dict, facts: dict[str, str]) -> str:
    passed = sum(1 for row in results.values() if row["passed"])
    lines = [
        START,
        f"Last written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {passed} of {len(results)} rows "
        f"pass. Machine and versions: {facts['cpu']}, {facts['memory']}; Python "
        f"{facts['python']}, Django {facts['django']}, gunicorn {facts['gunicorn']}, protobuf "
        f"{facts['protobuf']}, PostgreSQL {facts['postgresql']}. The load client runs on the "
        "same cores.",
        "",
        *table(results),
        "",
        END,
    ]
    generated = "\n".join(lines)
    text = DOCUMENT.read_text() if DOCUMENT.exists() else f"# Reliability\n\n{START}\n{END}\n"
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    return before + generated + after


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="comma-separated IDs to run (default: every scenario)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; keep the documents as they are"
    )
    args = parser.parse_args()
    wanted = {part.strip().upper() for part in args.only.split(",")} if args.only else None
    unknown = (wanted or set()) - {s.id for s in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenario IDs: {', '.join(sorted(unknown))}")
    chosen = [s for s in SCENARIOS if wanted is None or s.id in wanted]
    with tempfile.TemporaryDirectory(prefix="pulpanalytics-stress-") as temp:
        logs = Path(temp)
        outcomes = run_group([s for s in chosen if s.background], args.quick, logs)
        for scenario in (s for s in chosen if not s.background):
            outcomes += run_group([scenario], args.quick, logs)
    print("\nsummary:")
    for outcome in outcomes:
        print(f"  {outcome['id']} {'PASS' if outcome['passed'] else 'FAIL'}: {outcome['figure']}")
    if not args.no_write:
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results.update({outcome["id"]: outcome for outcome in outcomes})
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        DOCUMENT.write_text(render(results, machine()))
        print(f"wrote {DOCUMENT.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}")
    sys.exit(0 if all(outcome["passed"] for outcome in outcomes) else 1)


if __name__ == "__main__":
    main()
