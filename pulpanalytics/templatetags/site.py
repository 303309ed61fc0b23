"""Template helpers of the public pages: the menu, numbers as people read them, chart specs."""

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from pulpanalytics import pages

register = template.Library()


@register.simple_tag
def navigation() -> list[tuple[str, str]]:
    return pages.navigation()


@register.filter
def number(value: float | int | None) -> str:
    """1234 -> "1,234"; 2.54 -> "2.5"; 40.0 -> "40"; None -> an em dash (no value)."""
    if value is None:
        return "\u2014"
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.1f}"
    return f"{value:,}"


@register.filter
def percentage(value: float | int | None) -> str:
    """Every percent with one decimal: 12.1%, 39.1%, 50.0%; None -> an em dash (no value)."""
    if value is None:
        return "\u2014"
    return f"{value:,.1f}%"


def row_label(label: str, partial: dict[str, int]) -> str:
    """A row's label; a period with fewer days than it spans says how many it has."""
    if label in partial:
        days = partial[label]
        return f"{label} (partial: {days} day{'s' * (days != 1)})"
    return label


@register.simple_tag
def table_rows(entry: pages.ChartBlock) -> str:
    """The rows of a chart's table. Built here, not in a template loop: a range of three years
    is tens of thousands of cells, which the template engine takes most of a second to render."""
    write = percentage if entry.percent else number
    partial = entry.data.get("partial", {})
    # A label is escaped; a value is a number (or None) that number() writes as digits.
    return mark_safe(  # noqa: S308
        "\n".join(
            f'<tr><th scope="row">{escape(row_label(label, partial))}</th>'
            + "".join(f"<td>{write(value)}</td>" for value in values)
            + "</tr>"
            for label, values in entry.rows
        )
    )


@register.filter
def percent(share: float | None) -> str:
    """A share as a percent, one decimal like every percent: 0.354 -> "35.4%"."""
    return "\u2014" if share is None else f"{100 * share:.1f}%"


@register.filter
def chart_specs(blocks: list[pages.ChartBlock]) -> list[dict]:
    """What charts.js draws: the blocks that have data."""
    return [block.spec() for block in blocks if block.has_data]


@register.simple_tag(takes_context=True)
def absolute_url(context: template.Context, name: str, *args: str) -> str:
    """The full URL (scheme and host of the request) of a named path."""
    return context["request"].build_absolute_uri(reverse(name, args=args))
