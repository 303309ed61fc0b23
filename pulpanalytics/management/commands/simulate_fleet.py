"""manage.py simulate_fleet: the demo data of `make run` (a simulated history, then summarized)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from pulpanalytics import days, fleet, summarize

BAR_WIDTH = 30


def positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ValueError(value)
    return int(value)


def iso_date(value: str) -> date:
    day = days.parse_day(value)
    if day is None:
        raise CommandError(f"--end {value!r} is not a date in the form YYYY-MM-DD")
    return day


class Command(BaseCommand):
    help = (
        "Fill an empty database with a simulated history of Pulp installations (the demo data of "
        "`make run`): installations arrive, report daily or skip days, upgrade with a lag, add "
        "plugins and churn. Every report is protobuf bytes passed through the same ingest code as "
        "POST /. Then the finished days are summarized. The same options give the same data. "
        "Refuses a database that already holds reports or summaries. Not for production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=positive, default=180, help="days of history (default 180)"
        )
        parser.add_argument(
            "--systems",
            type=positive,
            default=1000,
            help="installations that report at least once in the history (default 1000)",
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--end",
            type=str,
            metavar="YYYY-MM-DD",
            help="the last day of the history, before today (default: yesterday, UTC)",
        )
        parser.add_argument(
            "--incident",
            choices=fleet.INCIDENTS,
            help=f"in the last {fleet.INCIDENT_DAYS} days: the installations on one core X.Y "
            "stop reporting (version-stops), or two of every three (reports-drop), for the "
            "watchdog's alerts to show",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing, successfully, when the database already holds data",
        )

    def handle(self, *args: object, **options: object) -> None:
        today = days.utc_date(timezone.now())
        end = iso_date(options["end"]) if options["end"] else today - timedelta(days=1)
        if end >= today:
            raise CommandError(f"--end {end} is not before today ({today}, UTC)")
        if not fleet.database_is_empty():
            if options["if_empty"]:
                self.stdout.write("The database already holds data; no fleet simulated")
                return
            raise CommandError(
                "The database already holds reports or summaries; the demo fleet goes only into "
                "an empty one (make reset-demo starts the SQLite demo afresh)"
            )
        self.verbosity = options["verbosity"]
        self.tty = self.stdout.isatty()
        try:
            result = fleet.simulate(
                days=options["days"],
                systems=options["systems"],
                seed=options["seed"],
                end=end,
                incident=options["incident"],
                progress=self.progress,
            )
        except fleet.FleetError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(result.last_line())
        run = summarize.run(now=timezone.now(), log=self.summarize_log)
        if self.tty and self.verbosity == 1:
            self.stdout.write("\r\033[K", ending="")
        self.stdout.write(run.last_line())

    def progress(self, done: fleet.DayDone) -> None:
        if self.verbosity < 1:
            return
        if self.tty:
            filled = BAR_WIDTH * done.number // done.days
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.stdout.write(
                f"\r[{bar}] day {done.number}/{done.days} {done.date}: {done.stored:,} reports",
                ending="\n" if done.number == done.days else "",
            )
            self.stdout.flush()
            return
        # Without a terminal (make run in a log, CI): about ten plain lines.
        every = max(done.days // 10, 1)
        if done.number % every == 0 or done.number == done.days:
            self.stdout.write(
                f"Day {done.number}/{done.days} ({done.date}): {done.reports:,} systems "
                f"reported; {done.stored:,} reports stored so far"
            )

    def summarize_log(self, line: str) -> None:
        if self.verbosity >= 2:
            self.stdout.write(line)
        elif self.verbosity == 1 and self.tty:
            self.stdout.write(f"\r\033[K{line}", ending="")
            self.stdout.flush()
