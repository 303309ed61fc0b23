"""D9: summarize one day of a million raw systems (8 million component rows) on PostgreSQL.

Reports the wall time and peak RSS of `manage.py summarize`, and compares the RSS with a day of
ten thousand systems: aggregation happens in SQL, so memory must not grow with the rows.
Pass: peak RSS for 1,000,000 systems within 1.25 x that for 10,000.
"""

from bench.common import DEFAULT_SERVER
from bench.reliability.scenario import Outcome, main
from bench.summarize import scenario


def run(args) -> Outcome:
    small = scenario(args.server, systems=10_000, day_count=1, repeats=1)
    large = scenario(args.server, systems=args.systems, day_count=1, repeats=1)
    ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
    return Outcome(
        id="D9",
        scenario=f"summarize {args.systems:,} raw systems of one day",
        figure=f"wall {large['command_wall_s']:.2f} s ({large['in_process_s']:.2f} s in-process, "
        f"SQL floor {large['floor_s']:.2f} s) for {large['raw_components']:,} component "
        f"rows; peak RSS {large['peak_rss_mb']:.0f} MB vs {small['peak_rss_mb']:.0f} MB "
        f"for 10,000 systems ({ratio:.2f}x)",
        passed=ratio <= 1.25,
        threshold="peak RSS independent of the row count (within 1.25x)",
    )


def arguments(parser) -> None:
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument(
        "--systems",
        type=int,
        default=1_000_000,
        help="systems of the large day (default: %(default)s)",
    )


if __name__ == "__main__":
    main(run, __doc__, arguments)
