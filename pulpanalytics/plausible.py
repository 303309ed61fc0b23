"""What the statistics trust: clean names and plausible numbers.

A report is stored as sent (within the wire rules of ingest.py), but one installation must not be
able to take a page down or move a public figure on its own. So a component name is a plugin
label, as pulpcore's Django app labels are, and a version is free of whitespace and control
characters (ingest refuses anything else). A count above PLAUSIBLE_MAX_COUNT and a
postgresql_version that is no libpq server_version_num are kept in the raw row but left out of
the statistics, as if the system had not sent them; /metrics counts them as they arrive.
"""

import re
import unicodedata
from collections.abc import Iterator

from django.conf import settings

# pulpcore's component names are the Django app labels of its plugins (core, rpm, ...).
PLUGIN_LABEL_RE = re.compile(r"[a-z][a-z0-9_]*")
# Printable ASCII but the space: clean without a look at each character's Unicode category.
PRINTABLE_ASCII_RE = re.compile(r"[!-~]*")
# The name the small-count fold gives its entry of a list: no plugin may take it.
RESERVED_NAMES = frozenset({"other"})
# The counts of telemetry.proto, by message: each is a number of things an installation has.
COUNTED = {
    "online_workers": ("processes", "hosts"),
    "online_content_apps": ("processes", "hosts"),
    "rbac_stats": ("users", "groups", "domains", "custom_access_policies", "custom_roles"),
}


def is_plugin_label(name: str) -> bool:
    return PLUGIN_LABEL_RE.fullmatch(name) is not None and name not in RESERVED_NAMES


def is_clean_version(version: str) -> bool:
    """A version has no whitespace and no control, format or unassigned characters."""
    if PRINTABLE_ASCII_RE.fullmatch(version):
        return True  # every version pulpcore sends: no need to look at each character
    return not any(char.isspace() or unicodedata.category(char).startswith("C") for char in version)


def max_count() -> int:
    return settings.PLAUSIBLE_MAX_COUNT


def is_plausible_count(number: int) -> bool:
    return 0 <= number <= max_count()


def is_server_version_num(number: int) -> bool:
    """Whether a number is a libpq server_version_num: 150004 (15.4) or 90624 (9.6.24).

    From PostgreSQL 10 on it is major * 10000 + minor, so its hundreds are 0; before 10 it is
    major * 10000 + minor * 100 + patch, and pulpcore never ran on anything before 7.
    """
    if 100_000 <= number < 1_000_000:
        return number // 100 % 100 == 0
    return 70_000 <= number < 100_000


def implausible_fields(data: dict) -> Iterator[str]:
    """The fields of a report's data (Report.data) that the statistics leave out, dotted."""
    for message, parts in COUNTED.items():
        values = data.get(message) or {}
        for part in parts:
            if part in values and not is_plausible_count(values[part]):
                yield f"{message}.{part}"
    version = data.get("postgresql_version", 0)
    if version and not is_server_version_num(version):
        yield "postgresql_version"
