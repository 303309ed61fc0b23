"""The database cache table that holds the rate-limit counters (settings.CACHES).

Created by `migrate` so that no deployment step can forget it; a no-op when REDIS_URL puts the
counters in Redis. If CACHES later changes to a database cache, run `manage.py createcachetable`.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: object, schema_editor: object) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("pulpanalytics", "0002_daily_summary")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
