"""Raw reports (kept RAW_RETENTION_DAYS), the system registry (kept), daily summaries and the
points their over-time charts take from each of them."""

from django.db import models


class System(models.Model):
    """One row per installation, never pruned, so an install's age survives a silence."""

    system_hash = models.CharField(
        max_length=64, unique=True, help_text="HMAC-SHA256 of the system_id; never the id itself"
    )
    first_seen = models.DateField(help_text="UTC day of the first report")
    last_seen = models.DateField(help_text="UTC day of the latest report")

    class Meta:
        indexes = [models.Index(fields=["last_seen"])]

    def __str__(self) -> str:
        return f"system {self.system_hash[:12]}"


class Report(models.Model):
    """The first report of a system on a UTC day (one row per system per day).

    On PostgreSQL the table is partitioned by `day` (migration 0010, pulpanalytics/partitions.py)
    and its primary key is (id, day); `id` alone is still unique, drawn from one sequence.
    """

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="reports")
    day = models.DateField(help_text="UTC day the report was received")
    # Copied from the registry at ingest (day - first_seen), so a day's statistics need no join.
    age_days = models.PositiveIntegerField(help_text="days since the system was first seen")
    # Every field of the report but system_id and components, as telemetry.proto names them
    # (absent fields are absent here too). A new metric reads its field from here: no migration.
    data = models.JSONField(default=dict, blank=True, help_text="the report's numbers")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "day"], name="report_one_per_system_day")
        ]
        indexes = [models.Index(fields=["day", "age_days"])]

    def __str__(self) -> str:
        return f"report of {self.system_id} on {self.day}"


class SystemMonth(models.Model):
    """The days of one month on which a system reported, as a bitmask: kept as long as the
    registry (cohorts and "returning" read it; a system's raw rows are pruned after days)."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="months")
    month = models.DateField(help_text="first day of the UTC month")
    # Bit d-1 set: the system reported on day d of the month. Setting a bit twice changes
    # nothing, so the upsert at ingest needs no check for a same-day repeat.
    days = models.IntegerField(help_text="bitmask of the days of the month it reported")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "month"], name="system_month_once")
        ]

    def __str__(self) -> str:
        return f"{self.system} in {self.month:%Y-%m}"


class Erasure(models.Model):
    """One forget_system run that deleted systems: when, and how many (no ids). Data built from
    the registry (the cohorts) is versioned by the latest one, so a deletion shows at once."""

    done_at = models.DateTimeField(help_text="when the systems were deleted")
    systems = models.PositiveIntegerField(help_text="how many systems were deleted")

    def __str__(self) -> str:
        return f"{self.systems} systems forgotten at {self.done_at:%Y-%m-%d %H:%M}"


class Component(models.Model):
    """One component (plugin) and its version in a report."""

    # DO_NOTHING: the prune deletes components first, then their reports, each in one statement;
    # CASCADE would make Django load every pruned report into memory.
    report = models.ForeignKey(Report, on_delete=models.DO_NOTHING, related_name="components")
    day = models.DateField(help_text="copy of the report's day")
    age_days = models.PositiveIntegerField(help_text="copy of the report's age_days")
    name = models.CharField(max_length=100)
    version = models.CharField(max_length=100)

    class Meta:
        # On PostgreSQL, partitioned by `day` like the reports (migration 0010), this constraint
        # is (report_id, day, name) and the foreign key (report_id, day): the same rows either way.
        constraints = [
            models.UniqueConstraint(fields=["report", "name"], name="component_once_per_report")
        ]
        indexes = [models.Index(fields=["day", "age_days"])]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class DailySummary(models.Model):
    """The Summary (summary.proto) of one finished UTC day, as JSON text; kept forever."""

    # Its "source": made here by summarize, or imported from the old site (import_upstream).
    SUMMARIZE = "summarize"
    UPSTREAM = "upstream"

    date = models.DateField(unique=True)
    # Text, not JSONField: PostgreSQL's jsonb would reorder keys, and the API serves this verbatim.
    json = models.TextField(help_text="the day's Summary as JSON, keys in summary.proto order")
    computed_at = models.DateTimeField(help_text="when summarize stored it")
    # Which code and PUBLIC_MIN_COUNT made this day's ChartPoints (points.py); another one means
    # they are stale and charts compute the day from the summary until summarize remakes them.
    points_revision = models.CharField(
        max_length=64, blank=True, db_default="", help_text="what made the day's chart points"
    )
    # A copy of the summary's "source", so that a page finds its imported days without reading
    # their JSON.
    source = models.CharField(
        max_length=16,
        db_default=SUMMARIZE,
        help_text="summarize (made here) or upstream (imported)",
    )

    class Meta:
        verbose_name_plural = "daily summaries"
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"summary of {self.date}"


class ChartPoint(models.Model):
    """What one over-time chart (with one set of its parameters) takes from one day's public
    summary: derived from the summary, rewritten with it; see pulpanalytics/points.py."""

    summary = models.ForeignKey(DailySummary, on_delete=models.CASCADE, related_name="points")
    date = models.DateField(help_text="copy of the summary's date")
    chart = models.CharField(max_length=100)
    params = models.CharField(
        max_length=2000, blank=True, help_text="the chart's own parameters, canonical query string"
    )
    point = models.TextField(help_text="the day's value of each dataset, JSON")

    class Meta:
        constraints = [
            # Also the index of a chart's points over a range of days.
            models.UniqueConstraint(fields=["chart", "params", "date"], name="point_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.chart}?{self.params} on {self.date}"


class Alert(models.Model):
    """Something the watchdog (watchdog.py) found in a summarized day; kept."""

    date = models.DateField(help_text="the summarized day it was found in")
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    found_at = models.DateTimeField(help_text="when summarize found it")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "kind", "message"], name="alert_once")
        ]
        ordering = ["-date", "kind", "message"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.date}"


class DataFile(models.Model):
    """A file of /data/ (opendata.py): made by summarize, served as stored.

    In the database rather than on a disk: the summarize CronJob and the web pods share no
    volume (their root filesystems are read-only), and a transaction replaces a file atomically.
    """

    name = models.CharField(max_length=100, unique=True)
    content = models.BinaryField()
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    etag = models.CharField(max_length=70)
    made_at = models.DateTimeField()
    # What it was made from: the summaries' version, PUBLIC_MIN_COUNT and the file's format.
    made_from = models.CharField(max_length=200)
    summaries = models.PositiveIntegerField(help_text="how many days it holds")
    first_day = models.DateField(null=True)
    last_day = models.DateField(null=True)

    def __str__(self) -> str:
        return self.name


class LimitCounter(models.Model):
    """One client's count of one limit in one window (limits.py), counted with one UPSERT.
    UNLOGGED on PostgreSQL (migration 0009): it needs no WAL, and a crash only empties it."""

    # Never the address: the scope, the window's start and a keyed hash of the client's bucket.
    key = models.CharField(max_length=100, primary_key=True)
    count = models.PositiveIntegerField()
    # No index: the purge scans the table once a minute; every hit would update an index.
    expires = models.DateTimeField(help_text="end of the window; purged after it")

    def __str__(self) -> str:
        return self.key
