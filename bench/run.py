#!/usr/bin/env python
"""`make bench`: run the ingest, summarize and site benchmarks with moderate sizes and write
docs/performance.md with every figure, the targets, the machine, the versions and the date."""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, machine  # noqa: E402

SCRIPTS = {
    "ingest": ["bench/ingest.py", "-n", "4000"],
    "summarize": ["bench/summarize.py", "--repeats", "3"],
    "site": ["bench/site.py"],
}


def ingest_section(results: dict) -> list[str]:
    lines = [
        f"gunicorn with the production config, {results['workers']} sync workers; the asyncio "
        "client runs on the same 2 cores; one connection per request.",
        "",
        "| workload | concurrency | req/s | p50 ms | p99 ms | server CPU ms/req | PostgreSQL "
        "CPU ms/req | ÷ /healthz ceiling | statuses |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in results["runs"]:
        statuses = ", ".join(f"{code}: {count}" for code, count in row["statuses"].items())
        lines.append(
            f"| {row['kind']} | {row['concurrency']} | {row['per_second']:.0f} | "
            f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['server_cpu_ms']:.2f} | "
            f"{row['db_cpu_ms']:.2f} | {row['of_ceiling']:.2f} | {statuses} |"
        )
    return lines


def summarize_section(results: dict) -> list[str]:
    lines = [
        "`manage.py summarize` as cron runs it (Django start-up included), the same work "
        "in-process, and the floor: one bare GROUP BY per statistic over the same rows.",
        "",
        "| systems | days | component rows | command wall s | in-process s | SQL floor s | "
        "command ÷ floor | in-process ÷ floor | peak RSS MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results["scenarios"]:
        lines.append(
            f"| {row['systems']:,} | {row['days']} | {row['raw_components']:,} | "
            f"{row['command_wall_s']:.2f} | {row['in_process_s']:.3f} | {row['floor_s']:.3f} | "
            f"{row['command_over_floor']:.1f} | {row['in_process_over_floor']:.2f} | "
            f"{row['peak_rss_mb']:.0f} |"
        )
    return lines


def site_section(results: dict) -> list[str]:
    lines = [
        f"{results['days']} days of generated summaries ({results['summaries_bytes']:,} bytes of "
        "summary JSON); cold = empty cache, warm = repeated; through the Django test client "
        "(no network, no gunicorn).",
        "",
        "| path | cold ms | warm p50 ms | warm p99 ms | bytes |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in results["paths"]:
        lines.append(
            f"| `{row['path']}` | {row['cold_ms']:.1f} | {row['warm_p50_ms']:.2f} | "
            f"{row['warm_p99_ms']:.2f} | {row['bytes']:,} |"
        )
    visit = results.get("visit")
    if visit:
        lines += [
            "",
            f"One visit of `/` in headless Chromium: {visit['requests']} requests, "
            f"{visit['bytes']:,} bytes transferred.",
        ]
    return lines


SECTIONS = {"ingest": ingest_section, "summarize": summarize_section, "site": site_section}


def render(results: dict, facts: dict, seconds: float) -> str:
    lines = [
        "# Performance",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds:.0f} s. "
        "Re-run it to refresh every figure.",
        "",
        "## Machine and versions",
        "",
        *[f"- {key}: {value}" for key, value in facts.items()],
        "",
        "## Targets",
        "",
        "- ingest: >= 600 reports/s at concurrency 8 and >= 0.5 x the /healthz ceiling; 0 errors;"
        " p99 <= 50 ms at concurrency 32",
        "- summarize: 100,000 systems/day <= 1 s wall, <= 3 x the SQL floor, peak RSS flat "
        "(1k vs 100k)",
        "- site: each chart/summary API path warm p50 <= 5 ms, cold <= 100 ms with 3 years; one "
        "visit of / <= 10 requests and <= 300 KB",
    ]
    for name, section in SECTIONS.items():
        if name in results:
            lines += ["", f"## {name.capitalize()}", "", *section(results[name])]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        choices=list(SCRIPTS),
        action="append",
        help="run only these benchmarks (repeatable)",
    )
    parser.add_argument("--output", default="docs/performance.md")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        results_file = Path(scratch) / "results.json"
        for name, command in SCRIPTS.items():
            if args.only and name not in args.only:
                continue
            print(f"== bench {name}", flush=True)
            subprocess.run([PYTHON, *command, "--json", str(results_file)], cwd=ROOT, check=True)
        results = json.loads(results_file.read_text())
    target = ROOT / args.output
    target.write_text(render(results, machine(), time.perf_counter() - started))
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
