"""`make bench`: run the ingest, summarize and site benchmarks with moderate sizes and write
docs/performance.md with every figure, the targets, the machine, the versions and the date."""

import argparse
import json
import subprocess
import time
from datetime import UTC, datetime

from bench.common import PYTHON, ROOT, machine, write_results

SCRIPTS = {
    "ingest": ["-m", "bench.ingest", "-n", "2000"],
    "summarize": [
        "-m",
        "bench.summarize",
        "--repeats",
        "3",
        "--sizes",
        "1000,10000,100000,1000000",
    ],
    "site": ["-m", "bench.site"],
}


def ingest_section(results: dict) -> list[str]:
    lines = [
        f"gunicorn with the production config, {results['workers']} workers, twice on one "
        "database: as deployed (the per-client limits at their defaults, every report from its "
        "own address through a declared proxy) and with the limits off. The asyncio client runs "
        "on the same 2 cores; one connection per request. Every workload runs "
        f"{results.get('rounds', 1)} times, interleaved with the others; each row is its median "
        "round, and ÷ /healthz divides by the /healthz row of the same concurrency.",
        "",
        "| workload | limits | concurrency | req/s | p50 ms | p99 ms | server CPU ms/req | "
        "PostgreSQL CPU ms/req | ÷ /healthz ceiling | statuses |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in results["runs"]:
        statuses = ", ".join(f"{code}: {count}" for code, count in row["statuses"].items())
        lines.append(
            f"| {row['kind']} | {row.get('limits', 'off')} | {row['concurrency']} | "
            f"{row['per_second']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
            f"{row['server_cpu_ms']:.2f} | {row['db_cpu_ms']:.2f} | {row['of_ceiling']:.2f} | "
            f"{statuses} |"
        )
    return lines


def summarize_section(results: dict) -> list[str]:
    lines = [
        "`manage.py summarize` as cron runs it (Django start-up included), the same work "
        "in-process, and the floor: one bare GROUP BY per statistic over the same rows. "
        "Start-up: the same command run again with nothing left to do.",
        "",
        "| systems | days | component rows | command wall s | in-process s | SQL floor s | "
        "command ÷ floor | in-process ÷ floor | peak RSS MB | start-up s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results["scenarios"]:
        idle = row.get("idle_command_s")
        lines.append(
            f"| {row['systems']:,} | {row['days']} | {row['raw_components']:,} | "
            f"{row['command_wall_s']:.2f} | {row['in_process_s']:.3f} | {row['floor_s']:.3f} | "
            f"{row['command_over_floor']:.1f} | {row['in_process_over_floor']:.2f} | "
            f"{row['peak_rss_mb']:.0f} | {'' if idle is None else f'{idle:.2f}'} |"
        )
    return lines


def site_section(results: dict) -> list[str]:
    lines = [
        f"{results['days']} days of generated summaries ({results['summaries_bytes']:,} bytes of "
        "summary JSON; `manage.py summarize` made their chart points in "
        f"{results.get('points_seconds', 0):.1f} s, as it would after a deploy that changed the "
        "charts), served by gunicorn (production config, one worker, built static "
        "files), one HTTP connection per request; cold = the first request of a fresh worker "
        "(the chart cache lives in each worker's memory), the median of three samples taken in "
        "three rounds over every path; warm = the same request repeated.",
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


def verdicts(results: dict) -> list[str]:
    """Each target against the figures of this run; for a miss, what limits it."""
    lines: list[str] = []

    def verdict(met: bool, text: str, limit: str = "") -> None:
        lines.append(f"- {'met' if met else '**missed**'}: {text}" + ("" if met else f" {limit}"))

    if "ingest" in results:
        runs = {
            (r["kind"], r.get("limits", "off"), r["concurrency"]): r
            for r in results["ingest"]["runs"]
        }
        c8, c32 = runs.get(("distinct", "deployed", 8)), runs.get(("distinct", "deployed", 32))
        off8 = runs.get(("distinct", "off", 8))
        ceiling8 = runs.get(("healthz", "deployed", 8))
        errors = sum(r["errors"] for r in results["ingest"]["runs"])
        if c8 and ceiling8:
            verdict(
                c8["per_second"] >= 600,
                f"ingest as deployed {c8['per_second']:.0f} reports/s at 8.",
                f"The machine sets it: the same gunicorn answers only {ceiling8['per_second']:.0f}"
                " requests/s of /healthz, which touches no database, with "
                f"{ceiling8['server_cpu_ms']:.1f} ms of CPU per request; 600 reports/s would "
                "need a report to cost about what that empty request costs here.",
            )
            verdict(
                c8["of_ceiling"] >= 0.5,
                f"ingest as deployed ÷ /healthz ceiling {c8['of_ceiling']:.2f} at 8"
                + (f" (limits off {off8['of_ceiling']:.2f})." if off8 else "."),
                f"A report costs {c8['server_cpu_ms']:.1f} ms of gunicorn CPU and "
                f"{c8['db_cpu_ms']:.1f} ms of PostgreSQL CPU against /healthz's "
                f"{ceiling8['server_cpu_ms']:.1f} ms and none, on the same 2 cores as the "
                "client: reading the body, parse, and one call that counts and stores it in a "
                "durable transaction (registry, report, activity, components, counters), behind "
                "the connection's health check. What is left is the report's own work, limits "
                "off included.",
            )
        if c8 and off8:
            verdict(
                c8["per_second"] >= 0.9 * off8["per_second"],
                f"limits on ÷ limits off {c8['per_second'] / off8['per_second']:.2f} at 8 "
                f"({c8['per_second']:.0f} and {off8['per_second']:.0f} reports/s; CPU per report "
                f"{c8['server_cpu_ms'] + c8['db_cpu_ms']:.2f} and "
                f"{off8['server_cpu_ms'] + off8['db_cpu_ms']:.2f} ms).",
                "Every report of this workload is a new system: two counter rows written in "
                "the report's call, and each request's counter key computed.",
            )
        verdict(errors == 0, f"{errors} errors (5xx or broken connections) in every run.")
        if c32:
            verdict(
                c32["p99_ms"] <= 50,
                f"p99 {c32['p99_ms']:.1f} ms at 32.",
                "With 32 requests in flight the CPU is the queue: at "
                f"{c32['per_second']:.0f} reports/s each one spends "
                f"{32 / c32['per_second'] * 1000:.0f} ms in the server on average (Little's "
                "law), so p99 follows the throughput above.",
            )
    if "summarize" in results:
        rows = results["summarize"]["scenarios"]
        big = next((r for r in rows if r["systems"] == 100_000 and r["days"] == 1), None)
        small = next((r for r in rows if r["systems"] == 1_000 and r["days"] == 1), None)
        if big and small:
            start_up = small["command_wall_s"] - small["in_process_s"]
            verdict(
                big["command_wall_s"] <= 1,
                f"summarize 100,000 systems {big['command_wall_s']:.2f} s wall.",
                f"The SQL floor alone takes {big['floor_s']:.2f} s here and the command's "
                f"Python and Django start-up about {start_up:.2f} s (1,000 systems: "
                f"{small['command_wall_s']:.2f} s wall, {small['in_process_s']:.3f} s of work). "
                "The floor holds the first statistics only; of the decision statistics added "
                "since (not in it), the compatibility GROUP BY alone takes about 0.5 s at "
                "100,000 systems: it sorts the 700,000 component rows joined to their core row, "
                "as PostgreSQL expects 40 times more groups than there are.",
            )
            verdict(
                big["command_over_floor"] <= 3,
                f"{big['command_over_floor']:.1f} x the SQL floor (in-process "
                f"{big['in_process_over_floor']:.2f} x; the rest is Python and Django start-up).",
            )
            verdict(
                big["peak_rss_mb"] <= small["peak_rss_mb"] * 1.1,
                f"peak RSS {small['peak_rss_mb']:.0f} MB for 1,000 systems, "
                f"{big['peak_rss_mb']:.0f} MB for 100,000.",
            )
        if small and small.get("idle_command_s") is not None:
            lines.append(
                f"- figure: summarize with nothing to do (its start-up) "
                f"{small['idle_command_s']:.2f} s wall."
            )
        huge = next((r for r in rows if r["systems"] == 1_000_000 and r["days"] == 1), None)
        if huge:
            lines.append(
                f"- figure: summarize 1,000,000 systems in one day {huge['command_wall_s']:.2f} s "
                f"wall ({huge['in_process_s']:.2f} s of work, the bare SQL "
                f"{huge['floor_s']:.2f} s), peak RSS {huge['peak_rss_mb']:.0f} MB."
            )
    if "site" in results:
        paths = {r["path"]: r for r in results["site"]["paths"]}
        api = [r for r in paths.values() if r["path"].startswith("/api/")]
        floor = paths.get("/api/v1/charts/")
        slow_warm = [r for r in api if r["warm_p50_ms"] > 5]
        slow_cold = [r for r in api if r["cold_ms"] > 100]
        verdict(
            not slow_warm,
            f"warm p50 <= 5 ms on {len(api) - len(slow_warm)} of {len(api)} API paths.",
            "Over: "
            + ", ".join(f"`{r['path']}` {r['warm_p50_ms']:.1f} ms" for r in slow_warm)
            + ". A warm chart is one small query and a cached body; the stack's own share is "
            + (
                f"what `/api/v1/charts/` (no database, 6 KB) takes: {floor['warm_p50_ms']:.1f} ms. "
                if floor
                else ""
            )
            + "The summary lists are their size: a month's (1.4 MB) is kept and its time is "
            "sending it; all three years' (40 MB) is read and sent every time, as no list over "
            "4 MB is kept, so that no range fills a worker's memory.",
        )
        verdict(
            not slow_cold,
            f"cold <= 100 ms on {len(api) - len(slow_cold)} of {len(api)} API paths.",
            "Over: "
            + ", ".join(f"`{r['path']}` {r['cold_ms']:.0f} ms" for r in slow_cold)
            + ". `/api/v1/summaries/` without dates is every summary of three years, 40 MB "
            "read and sent; over-time charts read their stored points (points.py), not the "
            "summaries.",
        )
        healthz = paths.get("/healthz")
        pages = [r for r in paths.values() if not r["path"].startswith(("/api/", "/healthz"))]
        if healthz and pages:
            slow_pages = [r for r in pages if r["warm_p50_ms"] > 2 * healthz["warm_p50_ms"]]
            slowest = max(pages, key=lambda r: r["warm_p50_ms"])
            verdict(
                not slow_pages,
                f"a repeat visit of a page within 2 x /healthz ({healthz['warm_p50_ms']:.2f} ms) "
                f"on {len(pages) - len(slow_pages)} of {len(pages)} pages; the slowest, "
                f"`{slowest['path']}`, {slowest['warm_p50_ms']:.2f} ms.",
                "Over: " + ", ".join(f"`{r['path']}`" for r in slow_pages) + ".",
            )
        visit = results["site"].get("visit")
        if visit:
            verdict(
                visit["requests"] <= 10 and visit["bytes"] <= 300_000,
                f"one visit of `/`: {visit['requests']} requests, {visit['bytes']:,} bytes.",
            )
    return lines


SECTIONS = {"ingest": ingest_section, "summarize": summarize_section, "site": site_section}


# The document's last section, written by hand (side-by-side comparisons of two versions of the
# code): a run of the benchmarks rewrites everything above it and keeps it as it is.
BY_HAND = "## Measured by hand"


def kept_by_hand(document: str) -> str:
    start = document.find(f"\n{BY_HAND}")
    return "" if start < 0 else document[start:]


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
        "- ingest as deployed: >= 600 reports/s at concurrency 8 and >= 0.5 x the /healthz "
        "ceiling; limits on >= 0.9 x limits off; 0 errors; p99 <= 50 ms at concurrency 32",
        "- summarize: 100,000 systems/day <= 1 s wall, <= 3 x the SQL floor, peak RSS flat "
        "(1k vs 100k)",
        "- site: each chart/summary API path warm p50 <= 5 ms, cold <= 100 ms with 3 years; a "
        "repeat visit of a page within 2 x /healthz's warm p50; one visit of / <= 10 requests "
        "and <= 300 KB",
    ]
    lines += ["", "## Against the targets", "", *verdicts(results)]
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
    parser.add_argument(
        "--results",
        default="docs/performance-results.json",
        help="the raw figures, kept beside the document (default: %(default)s)",
    )
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the document from --results"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    results_file = ROOT / args.results
    if not args.render_only:
        if not args.only:  # --only keeps the other benchmarks' figures
            results_file.unlink(missing_ok=True)
        for name, command in SCRIPTS.items():
            if args.only and name not in args.only:
                continue
            print(f"== bench {name}", flush=True)
            subprocess.run([PYTHON, *command, "--json", str(results_file)], cwd=ROOT, check=True)
        write_results(str(results_file), "seconds", round(time.perf_counter() - started))
    results = json.loads(results_file.read_text())
    target = ROOT / args.output
    kept = kept_by_hand(target.read_text()) if target.exists() else ""
    target.write_text(render(results, machine(), results.get("seconds", 0)) + kept)
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
