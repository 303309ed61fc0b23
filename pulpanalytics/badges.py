"""Badges for plugin READMEs: "<component> | N installations", as SVG and as a shields.io
endpoint document.

N is the component's persistent systems on the latest summarized day. A count below
PUBLIC_MIN_COUNT reads "fewer than K", as everywhere public. A component that some public
summary names but the latest day does not reads "0 installations", unless the latest day has an
"other" component entry (names run by fewer than PLUGIN_MIN_SYSTEMS): then it may be one of
those, and "fewer than K" is what is known. A name no public summary holds has no badge.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.utils.html import escape

from pulpanalytics import chart_data
from pulpanalytics.models import DailySummary
from pulpanalytics.plausible import is_plugin_label
from pulpanalytics.public import is_other, min_count
from pulpanalytics.wording import how_many

COLORS = {"blue": "#007ec6", "lightgrey": "#9f9f9f"}
# Verdana 11 px averages about this many pixels per character; badges are approximate anyway.
CHAR_WIDTH = 6.6
PADDING = 10


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    color: str  # a shields.io colour name, a key of COLORS

    def endpoint(self) -> dict:
        """The shields.io endpoint document (https://shields.io/badges/endpoint-badge)."""
        return {
            "schemaVersion": 1,
            "label": self.label,
            "message": self.message,
            "color": self.color,
        }

    def svg(self) -> str:
        """A flat badge: the label on grey, the message on its colour; text escaped."""
        label, message = escape(self.label), escape(self.message)
        left = round(len(self.label) * CHAR_WIDTH) + PADDING
        right = round(len(self.message) * CHAR_WIDTH) + PADDING
        width = left + right
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
            f'aria-label="{label}: {message}"><title>{label}: {message}</title>'
            '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
            'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
            f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
            f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
            f'<rect x="{left}" width="{right}" height="20" fill="{COLORS[self.color]}"/>'
            f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
            '<g fill="#fff" text-anchor="middle" '
            'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
            f'<text x="{left / 2:g}" y="14">{label}</text>'
            f'<text x="{left + right / 2:g}" y="14">{message}</text></g></svg>'
        )


def installations(count: int) -> str:
    return how_many(count, "installation")


def badge_of(name: str) -> Badge | None:
    """The component's badge, or None when no public summary names it."""
    if not is_plugin_label(name) or not chart_data.known_component(name):
        return None
    smallest = min_count()
    text = DailySummary.objects.order_by("-date").values_list("json", flat=True).first()
    components = json.loads(text).get("components", []) if text else []
    entry = next((c for c in components if c.get("name") == name and not is_other(c)), None)
    if entry is not None:
        count = entry.get("systems", 0)
        if 0 < count < smallest:
            return Badge(name, f"fewer than {smallest} installations", "lightgrey")
        return Badge(name, installations(count), "blue" if count else "lightgrey")
    unnamed = max(settings.PLUGIN_MIN_SYSTEMS, smallest)
    if unnamed > 1 and any(is_other(c) for c in components):
        return Badge(name, f"fewer than {unnamed} installations", "lightgrey")
    return Badge(name, installations(0), "lightgrey")
