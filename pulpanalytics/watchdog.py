"""The watchdog: summarize looks at each day it summarizes for signs that reports stopped, and
anyone can ask whether the nightly summary ran (README "Open data, badges and the watchdog").

- reports_drop: the day's systems are below ALERT_DROP_RATIO x the median of the systems of the
  7 latest summaries before it (whatever their dates; no alert before 7 exist).
- version_drop: a core X.Y that had at least VERSION_MIN_SYSTEMS persistent systems on each of
  those 7 days has fewer than half its median on the day, while the day's persistent systems are
  at least 0.9 x their median: a release that stopped reporting, not a fleet that did.
- stale_summary (live, never stored): it is more than SUMMARY_STALE_HOURS past the end of the day
  after the newest summary, so the nightly job did not run.

The drops of a day are stored (Alert) with its summary, in its transaction; re-summarizing the
day replaces them. New ones are mailed to ADMINS when mail is configured.
"""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median

from django.conf import settings
from django.core.mail import mail_admins
from django.db.models import Max

from pulpanalytics.models import Alert, DailySummary
from pulpanalytics.public import min_count
from pulpanalytics.wording import how_many

logger = logging.getLogger(__name__)

REPORTS_DROP = "reports_drop"
VERSION_DROP = "version_drop"
STALE_SUMMARY = "stale_summary"
KINDS = (REPORTS_DROP, VERSION_DROP, STALE_SUMMARY)
# Drops are stored by summarize; a stale summary is a state of now.
STORED_KINDS = (REPORTS_DROP, VERSION_DROP)
BASELINE_DAYS = 7
VERSION_MIN_SYSTEMS = 10
VERSION_DROP_SHARE = 0.5
# A version drop counts only while the fleet itself holds: persistent systems at least this share
# of their median (otherwise it is a drop of reports, and reports_drop says so).
FLEET_HOLDS_SHARE = 0.9


@dataclass(frozen=True)
class Finding:
    date: date
    kind: str
    message: str

    def as_json(self) -> dict:
        return {"date": self.date.isoformat(), "kind": self.kind, "message": self.message}


def core_xy_counts(summary: dict) -> dict[str, int]:
    """The persistent systems of each core X.Y in a stored summary."""
    core = next((c for c in summary.get("components", []) if c.get("name") == "core"), None)
    if core is None:
        return {}
    return {entry["version"]: entry["count"] for entry in core["xy"] if not entry.get("other")}


def _public_count(number: int) -> str:
    # Alerts are public (the API): a count below PUBLIC_MIN_COUNT is not shown.
    smallest = min_count()
    return f"fewer than {smallest}" if 0 < number < smallest else f"{number:,}"


def examine(day: date, summary: dict, baseline: list[dict]) -> list[Finding]:
    """The drops of `day` (its stored summary) against the summaries of the days before it."""
    if len(baseline) < BASELINE_DAYS:
        return []
    findings = []
    systems = summary.get("systems", 0)
    usual = median(s.get("systems", 0) for s in baseline)
    if systems < settings.ALERT_DROP_RATIO * usual:
        findings.append(
            Finding(
                day,
                REPORTS_DROP,
                f"{systems:,} systems reported on {day}, {systems / usual:.0%} of the median "
                f"of the {BASELINE_DAYS} summaries before it ({usual:,g})",
            )
        )
    persistent = summary.get("persistent_systems", 0)
    if persistent < FLEET_HOLDS_SHARE * median(s.get("persistent_systems", 0) for s in baseline):
        return findings
    before = [core_xy_counts(s) for s in baseline]
    today = core_xy_counts(summary)
    steady = set.intersection(*(set(counts) for counts in before))
    for xy in sorted(steady):
        history = [counts[xy] for counts in before]
        if min(history) < VERSION_MIN_SYSTEMS:
            continue
        usual_xy = median(history)
        count = today.get(xy, 0)
        if count < VERSION_DROP_SHARE * usual_xy:
            findings.append(
                Finding(
                    day,
                    VERSION_DROP,
                    f"core {xy}: {_public_count(count)} persistent systems on {day}, "
                    f"median {usual_xy:,g} over the {BASELINE_DAYS} summaries before it",
                )
            )
    return findings


def baseline_before(day: date) -> list[dict]:
    """The stored summaries of the BASELINE_DAYS latest days before `day`."""
    texts = (
        DailySummary.objects.filter(date__lt=day)
        .order_by("-date")
        .values_list("json", flat=True)[:BASELINE_DAYS]
    )
    return [json.loads(text) for text in texts]


def record(day: date, summary: dict, *, now: datetime) -> list[Finding]:
    """Examine a day just summarized and replace its stored drops, in the caller's transaction;
    the findings that were not stored before (the ones to mail)."""
    findings = examine(day, summary, baseline_before(day))
    kept = set(Alert.objects.filter(date=day, kind__in=STORED_KINDS).values_list("kind", "message"))
    Alert.objects.filter(date=day, kind__in=STORED_KINDS).delete()
    Alert.objects.bulk_create(
        [Alert(date=f.date, kind=f.kind, message=f.message, found_at=now) for f in findings]
    )
    return [f for f in findings if (f.kind, f.message) not in kept]


def stale_summary(now: datetime) -> Finding | None:
    """The stale_summary alert of `now`, or None (also when nothing is summarized yet)."""
    newest = DailySummary.objects.aggregate(newest=Max("date"))["newest"]
    if newest is None:
        return None
    due = datetime.combine(newest + timedelta(days=2), time(), UTC) + timedelta(
        hours=settings.SUMMARY_STALE_HOURS
    )
    if now <= due:
        return None
    missing = newest + timedelta(days=1)
    return Finding(
        missing,
        STALE_SUMMARY,
        f"no summary of {missing} yet (the newest is of {newest}); it was due by "
        f"{due:%Y-%m-%d %H:%M} UTC: has the nightly summarize run?",
    )


def alerts(now: datetime) -> list[Finding]:
    """Every alert, newest first: the live stale_summary, then the stored ones."""
    stored = [
        Finding(a.date, a.kind, a.message)
        for a in Alert.objects.order_by("-date", "kind", "message")
    ]
    stale = stale_summary(now)
    return ([stale] if stale else []) + stored


def active_counts(now: datetime) -> dict[str, int]:
    """How many alerts of each kind hold now: the drops found in the newest summarized day, and
    1 for a stale summary (what /metrics shows and the PrometheusRule fires on)."""
    counts = dict.fromkeys(KINDS, 0)
    newest = DailySummary.objects.aggregate(newest=Max("date"))["newest"]
    if newest is not None:
        for kind in Alert.objects.filter(date=newest).values_list("kind", flat=True):
            counts[kind] = counts.get(kind, 0) + 1
    counts[STALE_SUMMARY] = int(stale_summary(now) is not None)
    return counts


def mail_configured() -> bool:
    return bool(settings.ADMINS and settings.EMAIL_HOST)


def mail(findings: Iterable[Finding]) -> bool:
    """Mail new findings to ADMINS when mail is configured; whether a mail went out.

    A mail that cannot be sent is logged, not raised: the alerts stay stored and in /metrics.
    """
    findings = list(findings)
    if not findings or not mail_configured():
        return False
    lines = [f"{f.date} {f.kind}: {f.message}" for f in findings]
    subject = f"{how_many(len(findings), 'new alert')}: {findings[0].kind}"
    try:
        mail_admins(subject, "\n".join(lines) + "\n", fail_silently=False)
    except OSError as error:
        logger.error("watchdog: could not mail %d alerts: %s", len(findings), error)
        return False
    return True
