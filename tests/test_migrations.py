"""Migrations: `migrate` alone prepares every table a deployment needs."""

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_migrate_creates_the_cache_table_of_the_limits():
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE pulpanalytics_cache")
    assert "pulpanalytics_cache" not in connection.introspection.table_names()
    migration = importlib.import_module("pulpanalytics.migrations.0003_cache_table")
    migration.create_cache_table(None, SimpleNamespace(connection=connection))
    assert "pulpanalytics_cache" in connection.introspection.table_names()
    # Running it again (a second migrate on a fresh alias) is harmless.
    migration.create_cache_table(None, SimpleNamespace(connection=connection))


def test_no_model_change_lacks_a_migration():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "No changes detected"
