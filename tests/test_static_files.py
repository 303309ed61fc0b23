"""collectstatic (a Containerfile step) writes hashed, compressed files that whitenoise serves."""

import json
import re

from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client


def test_collectstatic_writes_hashed_gzipped_files_that_whitenoise_serves_immutable(
    settings, tmp_path
):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)

    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    hashed = manifest["paths"]["admin/css/base.css"]
    assert re.fullmatch(r"admin/css/base\.[0-9a-f]{12}\.css", hashed)
    assert (tmp_path / f"{hashed}.gz").is_file()
    assert static("admin/css/base.css") == f"/static/{hashed}"

    # A new client builds a new middleware chain: whitenoise indexes STATIC_ROOT at start-up.
    response = Client().get(f"/static/{hashed}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    unhashed = Client().get("/static/admin/css/base.css")
    assert unhashed.status_code == 200
    assert unhashed["Cache-Control"] == "max-age=60, public"
