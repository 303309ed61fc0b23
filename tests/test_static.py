"""collectstatic with production storage: Chart.js from node_modules and our assets, hashed and
compressed for whitenoise, and pages that link the hashed names."""

import json
import re

import pytest
from django.core.management import call_command

MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def collected(tmp_path, settings) -> dict[str, str]:
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    call_command("collectstatic", "--noinput", verbosity=0)
    return json.loads((tmp_path / "staticfiles.json").read_text())["paths"]


@pytest.mark.django_db
def test_collectstatic_hashes_and_compresses_chart_js_and_the_site_assets(
    collected, tmp_path, client
):
    for name in [
        "vendor/chart.js/chart.umd.min.js",
        "pulpanalytics/charts.js",
        "pulpanalytics/site.css",
    ]:
        stem, suffix = name.rsplit(".", 1)
        hashed = collected[name]
        assert re.fullmatch(re.escape(stem) + r"\.[0-9a-f]{12}\." + suffix, hashed), hashed
        assert (tmp_path / (hashed + ".gz")).stat().st_size > 0
    assert (
        "Chart.js v4.6.1" in (tmp_path / collected["vendor/chart.js/chart.umd.min.js"]).read_text()
    )
    page = client.get("/about/").content.decode()
    assert f'href="/static/{collected["pulpanalytics/site.css"]}"' in page
