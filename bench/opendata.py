#!/usr/bin/env python
"""Measure the files of /data/ over years of history: their size and the time to make them.

Generates daily summaries (default 3 years, as bench/site.py does), stores them in a throw-away
PostgreSQL database, runs `manage.py summarize` (which makes their chart points and then the
files), then makes each file again alone, timed, and serves the dump once through Django.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    DEFAULT_SERVER,
    drop_database,
    recreate_database,
    run_manage,
    timed_command,
    write_results,
)
from bench.site import generate, store  # noqa: E402

# Run inside `manage.py shell`: each file made alone, cold (the first time; later ones read the
# chart points from this process' cache), and one GET of the dump.
MEASURE = """
import json, time
from django.test import Client
from pulpanalytics import opendata
from pulpanalytics.chart_data import summaries_state
state = summaries_state()
out = {}
for name, make in opendata.MAKERS.items():
    start = time.perf_counter()
    content = make(state)
    out[name] = {"bytes": len(content), "seconds": time.perf_counter() - start}
start = time.perf_counter()
response = Client(HTTP_HOST="localhost").get("/data/" + opendata.SUMMARIES)
out["serve_seconds"] = time.perf_counter() - start
out["serve_status"] = response.status_code
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--days", type=int, default=3 * 365, help="days of summaries")
    parser.add_argument("--json", help="merge the results into this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    name = "pulpanalytics_bench_opendata"
    url = recreate_database(args.server, name)
    try:
        summaries = generate(args.days)
        size = store(url, summaries)
        print(f"{len(summaries):,} summaries, {size:,} bytes of JSON")
        seconds, rss, output = timed_command(url, "summarize")
        print(f"summarize (chart points, then the files): {seconds:.1f} s, peak RSS {rss:,} KB")
        print(f"  {output.strip().splitlines()[-1]}")
        result = {}
        # PUBLIC_MIN_COUNT above 1 folds every summary (parse, fold, encode) on the way.
        for k in ("1", "5"):
            if k != "1":  # the points of another PUBLIC_MIN_COUNT are remade first, as in a run
                seconds_k, _, _ = timed_command(url, "summarize", PUBLIC_MIN_COUNT=k)
                print(
                    f"PUBLIC_MIN_COUNT={k}: summarize remade points and files in {seconds_k:.1f} s"
                )
            out = run_manage(url, "shell", "-c", MEASURE, PUBLIC_MIN_COUNT=k).stdout
            measured = json.loads(out.strip().splitlines()[-1])
            for file in ("summaries.ndjson.gz", "charts.zip"):
                found = measured[file]
                print(
                    f"PUBLIC_MIN_COUNT={k}: /data/{file}: {found['bytes']:,} bytes, made in "
                    f"{found['seconds']:.2f} s"
                )
            print(
                f"PUBLIC_MIN_COUNT={k}: GET /data/summaries.ndjson.gz (stored): "
                f"{measured['serve_status']} in {measured['serve_seconds'] * 1000:.0f} ms"
            )
            result[f"min_count_{k}"] = measured
        result.update(days=len(summaries), summaries_bytes=size, summarize_seconds=seconds)
        result["summarize_peak_rss_kb"] = rss
        write_results(args.json, "opendata", result)
    finally:
        if not args.keep:
            drop_database(args.server, name)


if __name__ == "__main__":
    main()
