"""The per-client limits count in a table of their own (limits.py): one UPSERT per hit, exact
under concurrency without a lock, in the report's own transaction. The database cache table of
0003 stays for Django's cache and holds no counter any more.

On PostgreSQL the table is UNLOGGED: a counter lives an hour at most, so it needs no WAL and a
request that only counts waits for no disk flush; a crash of PostgreSQL empties it (every client
starts a fresh window), and replicas do not have it (only the primary counts).

Numbered 0009 on the branch `speed`: the lead renumbers it when merging.
"""

from django.db import migrations, models


def unlogged(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE pulpanalytics_limitcounter SET UNLOGGED")


class Migration(migrations.Migration):
    dependencies = [("pulpanalytics", "0008_fleet_activity")]

    operations = [
        migrations.CreateModel(
            name="LimitCounter",
            fields=[
                ("key", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("count", models.PositiveIntegerField()),
                (
                    "expires",
                    models.DateTimeField(help_text="end of the window; purged after it"),
                ),
            ],
        ),
        migrations.RunPython(unlogged, migrations.RunPython.noop),
    ]
