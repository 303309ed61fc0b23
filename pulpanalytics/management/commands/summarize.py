"""manage.py summarize: meant for a nightly cron job (the OpenShift CronJob runs it)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from pulpanalytics import days, partitions, summarize


def iso_date(value: str) -> date:
    day = days.parse_day(value)
    if day is None:
        raise CommandError(f"--date {value!r} is not a date in the form YYYY-MM-DD")
    return day


class Command(BaseCommand):
    help = (
        "Summarize every finished UTC day that has no summary yet (oldest first, gaps too, "
        "one transaction per day, each with its chart points), remake the chart points that "
        "other code or another PUBLIC_MIN_COUNT made, then prune raw rows older than "
        "RAW_RETENTION_DAYS whose day is summarized and, on PostgreSQL, create the coming days' "
        "partitions. Meant for a nightly cron job after midnight UTC, and once after a "
        "release; safe to re-run."
    )
    # The system checks import every URL, view and admin module, a third of a run with nothing
    # to do; the deploy's own `manage.py check --deploy` and the web pods run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            type=str,
            metavar="YYYY-MM-DD",
            help="re-summarize this one day (its raw rows must still exist)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="write nothing; say what would be done"
        )

    def handle(self, *args: object, **options: object) -> None:
        only = iso_date(options["date"]) if options["date"] else None
        try:
            outcome = summarize.run(
                now=timezone.now(),
                only=only,
                dry_run=options["dry_run"],
                log=self.stdout.write,
            )
        except (summarize.SummarizeError, partitions.PartitionsBusy) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(outcome.last_line())
