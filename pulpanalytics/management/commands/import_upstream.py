"""manage.py import_upstream: run once (and again, harmlessly) when moving from the old site."""

from pathlib import Path

import psycopg2
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from pulpanalytics import upstream
from pulpanalytics.upstream_tables import DatabaseTables, FileTables, UpstreamError

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import the history of the old Pulp analytics site (docs/upstream.md): the summary of "
        'every upstream day that has none here (marked "source": "upstream"; a day summarized '
        "here is never overwritten), the raw reports of the upstream days neither site has "
        "summarized, and the registry's first_seen of every upstream system (ids hashed as they "
        "are read). Reads the old database in a read-only transaction; one transaction per day "
        "here. Safe to re-run: a second run imports nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument(
            "--from",
            dest="url",
            metavar="DATABASE_URL",
            help="the old site's PostgreSQL database, postgres://user:password@host:5432/name",
        )
        where.add_argument(
            "--from-file",
            dest="path",
            type=Path,
            metavar="PATH",
            help="the old site's tables as one JSON object (README.md says how to make it)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="write nothing; say what would be imported"
        )

    def handle(self, *args: object, **options: object) -> None:
        self.verbosity = options["verbosity"]
        self.tty = self.stdout.isatty()
        self.bar_open = False
        try:
            tables = (
                DatabaseTables(options["url"]) if options["url"] else FileTables(options["path"])
            )
        except UpstreamError as error:
            raise CommandError(str(error)) from error
        try:
            outcome = upstream.run(
                tables=tables,
                now=timezone.now(),
                dry_run=options["dry_run"],
                log=self.log,
                progress=self.progress,
            )
        except psycopg2.Error as error:
            # The days imported before it stay; a new run goes on from there.
            raise CommandError(f"reading the upstream database failed: {error}") from error
        finally:
            tables.close()
        if self.bar_open:
            self.stdout.write("")
        self.stdout.write(outcome.last_line())

    def log(self, line: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(line)

    def progress(self, done: upstream.Progress) -> None:
        if self.verbosity >= 2 or (self.verbosity == 1 and done.days <= 10):
            self.stdout.write(f"{done.date}: {done.what}")
        elif self.verbosity == 1 and self.tty:
            filled = BAR_WIDTH * done.number // done.days
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.stdout.write(
                f"\r[{bar}] day {done.number:,}/{done.days:,} {done.date}: {done.what}\033[K",
                ending="",
            )
            self.stdout.flush()
            self.bar_open = True
        elif self.verbosity == 1 and (done.number % (done.days // 10) == 0):
            # Without a terminal (a Job's log): about ten lines.
            self.stdout.write(f"Day {done.number:,}/{done.days:,} ({done.date}): {done.what}")
