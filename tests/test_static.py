"""collectstatic with production storage: Chart.js from node_modules and our assets, hashed and
compressed for whitenoise, and pages that link the hashed names."""

import json
import re

import pytest
from django.core.management import call_command
from django.test import Client

MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def collected(tmp_path, settings) -> dict[str, str]:
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    call_command("collectstatic", "--noinput", verbosity=0)
    return json.loads((tmp_path / "staticfiles.json").read_text())["paths"]


@pytest.mark.django_db
def test_collectstatic_hashes_and_compresses_the_assets_pages_link_and_whitenoise_serves(
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
    hashed = collected["pulpanalytics/site.css"]
    assert f'href="/static/{hashed}"' in client.get("/about/").content.decode()

    # whitenoise serves the hashed name gzipped for good, the plain one for a minute. A new client
    # builds a new middleware chain: whitenoise indexes STATIC_ROOT at start-up.
    response = Client().get(f"/static/{hashed}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    unhashed = Client().get("/static/pulpanalytics/site.css")
    assert unhashed.status_code == 200
    assert unhashed["Cache-Control"] == "max-age=60, public"
