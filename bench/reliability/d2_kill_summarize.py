"""D2: kill -9 `manage.py summarize` at random points, then re-run it.

Fills a throw-away PostgreSQL database (COPY) with 30 days of systems, times a clean run, then
for each trial starts summarize, kills it with SIGKILL after a delay drawn uniformly over the
clean run's duration, counts days left half-written (a stored summary that differs from the
clean run's), re-runs summarize and compares the hash of all summaries with the clean run's.
Pass: 0 half-written days and the same hash in every trial.
"""

import hashlib
import random
import signal
import subprocess
import time
from datetime import date, timedelta

from bench.common import (
    DEFAULT_SERVER,
    PYTHON,
    ROOT,
    django_env,
    drop_database,
    query,
    recreate_database,
    run_manage,
)
from bench.reliability.scenario import Outcome, main
from bench.summarize import clear_summaries, fill


def stored(url: str) -> dict:
    return dict(query(url, "SELECT date, json FROM pulpanalytics_dailysummary ORDER BY date"))


def digest(rows: dict) -> str:
    return hashlib.sha256(repr(sorted(rows.items())).encode()).hexdigest()


def run(args) -> Outcome:
    name = "pulpanalytics_stress_d2"
    url = recreate_database(args.server, name)
    yesterday = date.today() - timedelta(days=1)
    days = [yesterday - timedelta(days=n) for n in range(args.days - 1, -1, -1)]
    fill(url, systems=args.systems, days=days)
    env = {"SUMMARIZE_GRACE_MINUTES": "0", "RAW_RETENTION_DAYS": str(args.days + 30)}
    start = time.perf_counter()
    run_manage(url, "summarize", **env)
    duration = time.perf_counter() - start
    clean = stored(url)
    rnd = random.Random(args.seed)
    half_written = identical = killed_mid_run = 0
    for _ in range(args.trials):
        clear_summaries(url)
        process = subprocess.Popen(
            [PYTHON, "manage.py", "summarize"],
            cwd=ROOT,
            env=django_env(url, **env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rnd.uniform(0, duration))
        if process.poll() is None:
            killed_mid_run += 1
        process.send_signal(signal.SIGKILL)
        process.wait()
        after_kill = stored(url)
        half_written += sum(1 for day, text in after_kill.items() if clean.get(day) != text)
        run_manage(url, "summarize", **env)
        identical += digest(stored(url)) == digest(clean)
    drop_database(args.server, name)
    return Outcome(
        id="D2",
        scenario="kill -9 summarize at random points, then re-run",
        figure=f"{half_written} half-written days; hash identical in {identical}/{args.trials} "
        f"({killed_mid_run} kills landed mid-run; clean run {duration:.2f} s for "
        f"{args.days} days x {args.systems:,} systems)",
        passed=half_written == 0 and identical == args.trials,
        threshold="0 half-written days; hash identical in every trial",
    )


def arguments(parser) -> None:
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--trials", type=int, default=20, help="kills (default: %(default)s)")
    parser.add_argument("--days", type=int, default=30, help="days of data (default: %(default)s)")
    parser.add_argument(
        "--systems", type=int, default=3000, help="systems per day (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=1)


if __name__ == "__main__":
    main(run, __doc__, arguments)
