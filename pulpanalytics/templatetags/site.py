"""Template helpers of the public pages: the menu, numbers as people read them, chart specs."""

from django import template

from pulpanalytics import pages

register = template.Library()


@register.simple_tag
def navigation() -> list[tuple[str, str]]:
    return pages.navigation()


@register.filter
def number(value: float | int | None) -> str:
    """1234 -> "1,234"; 2.5 -> "2.5"; 40.0 -> "40"; None -> an em dash (no value)."""
    if value is None:
        return "\u2014"
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}"


@register.filter
def percent(share: float | None) -> str:
    """0.354 -> "35.4 %"."""
    return "\u2014" if share is None else f"{100 * share:.1f} %"


@register.filter
def chart_specs(blocks: list[pages.ChartBlock]) -> list[dict]:
    """What charts.js draws: the blocks that have data."""
    return [block.spec() for block in blocks if block.has_data]
