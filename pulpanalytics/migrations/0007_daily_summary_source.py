"""Each summary says what made it ("source" in its JSON, copied to a column): the summaries
stored before are all made here by summarize, so they say "summarize"."""

import json

from django.db import migrations, models


def mark_made_here(apps, schema_editor) -> None:
    DailySummary = apps.get_model("pulpanalytics", "DailySummary")
    for daily in DailySummary.objects.only("id", "json").iterator(chunk_size=100):
        summary = json.loads(daily.json)
        if "source" not in summary:
            summary["source"] = "summarize"
            DailySummary.objects.filter(pk=daily.pk).update(
                json=json.dumps(summary, separators=(",", ":"))
            )


class Migration(migrations.Migration):
    dependencies = [("pulpanalytics", "0006_alerts_and_data_files")]

    operations = [
        migrations.AddField(
            model_name="dailysummary",
            name="source",
            field=models.CharField(
                db_default="summarize",
                help_text="summarize (made here) or upstream (imported)",
                max_length=16,
            ),
        ),
        migrations.RunPython(mark_made_here, migrations.RunPython.noop),
    ]
