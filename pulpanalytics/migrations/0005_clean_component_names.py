"""Summaries stored before ingest refused names that are no plugin label ("a\\nb", "core ",
"javascript:...", "other", ...): such names leave every stored summary, their systems counted in
the day's "other" entry, and the day's chart points are remade by the next summarize.

The summaries of days past the raw retention cannot be re-summarized, so they are cleaned here.
The rule is written out (not imported) so this migration keeps meaning what it meant.
"""

import json
import re

from django.db import migrations

LABEL = re.compile(r"[a-z][a-z0-9_]*")


def is_label(entry: dict) -> bool:
    return entry.get("other") is True or (
        isinstance(entry.get("name"), str)
        and LABEL.fullmatch(entry["name"]) is not None
        and entry["name"] != "other"
    )


def clean(summary: dict) -> bool:
    """Fold the components whose name is no plugin label into "other"; whether any was."""
    components = summary.get("components") or []
    kept = [entry for entry in components if is_label(entry)]
    if len(kept) == len(components):
        return False
    moved = sum(entry.get("systems", 0) for entry in components if not is_label(entry))
    other = next((entry for entry in kept if entry.get("other") is True), None)
    if other is None:
        kept.append({"name": "other", "systems": moved, "xy": [], "xyz": [], "other": True})
    else:
        other["systems"] += moved
    summary["components"] = kept
    return True


def clean_summaries(apps, schema_editor) -> None:
    DailySummary = apps.get_model("pulpanalytics", "DailySummary")
    for daily in DailySummary.objects.only("id", "json").iterator(chunk_size=100):
        summary = json.loads(daily.json)
        if clean(summary):
            DailySummary.objects.filter(pk=daily.pk).update(
                json=json.dumps(summary, separators=(",", ":")), points_revision=""
            )


class Migration(migrations.Migration):
    dependencies = [("pulpanalytics", "0004_chart_points")]

    operations = [migrations.RunPython(clean_summaries, migrations.RunPython.noop)]
