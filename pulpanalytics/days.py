"""UTC days: the unit of everything here (a report's day, a summary's date)."""

import re
from datetime import UTC, date, datetime

_ISO_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def as_date(value: date | str) -> date:
    """A date as a raw database cursor gives it: a date, or text from SQLite."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def parse_day(value: str) -> date | None:
    """YYYY-MM-DD exactly (not the other forms date.fromisoformat accepts), or None."""
    if not _ISO_DAY_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
