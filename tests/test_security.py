"""docs/reliability.md A12 and F1-F6: production settings, headers, admin access, CSRF."""

import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from google.protobuf.internal import api_implementation

from pulpanalytics import checks, views
from tests.helpers import GOOD_KEY, ROOT, manage, refused, settings_of

SYSTEM = "99999999-9999-4999-8999-999999999999"


def production(**env: str) -> dict[str, str]:
    return {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "analytics.example.org", **env}


# A12 and F1: what `check` says under production settings.


def test_deploy_checks_pass_with_production_settings_and_three_documented_silences(settings):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (3 silenced).\n"
    # The test run's own settings are production settings too (DEBUG off, same defaults).
    assert settings.SILENCED_SYSTEM_CHECKS == ["security.W021", "security.W008", "security.W005"]
    readme = (ROOT / "README.md").read_text()
    documented = readme.split("### Silenced deploy checks")[1].split("\n## ")[0]
    for check_id in settings.SILENCED_SYSTEM_CHECKS:
        assert f"`{check_id}`" in documented


def test_redirect_and_subdomain_checks_are_silenced_only_while_those_settings_are_off():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        **production(SECURE_SSL_REDIRECT="true", SECURE_HSTS_INCLUDE_SUBDOMAINS="true"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (1 silenced).\n"


def test_the_deploy_check_fails_without_hsts(settings):
    settings.SECURE_HSTS_SECONDS = 0
    with pytest.raises(SystemCheckError, match=r"security\.W004"):
        call_command("check", deploy=True, fail_level="WARNING")


def test_protobuf_runs_on_upb():
    # The backend depends on the installed wheel and PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION,
    # not on Django settings: this interpreter is the one production runs.
    assert api_implementation.Type() == "upb"
    assert checks.protobuf_backend_is_upb() == []
    call_command("check")


def test_check_fails_when_protobuf_is_not_on_upb(monkeypatch):
    monkeypatch.setattr(api_implementation, "Type", lambda: "python")
    with pytest.raises(SystemCheckError, match=r"pulpanalytics\.E001.*'python' backend"):
        call_command("check")


# F3: with DEBUG off, errors show generic pages.


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(f"secret detail {GOOD_KEY}")


urlpatterns = [path("boom/", boom), path("", include("app.urls"))]


@pytest.mark.django_db
def test_errors_show_generic_pages_without_tracebacks_or_settings(settings):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    failed, missing = client.get("/boom/"), client.get("/no/such/page/")
    assert (failed.status_code, missing.status_code) == (500, 404)
    for response in (failed, missing):
        page = response.content.decode()
        for leak in ("Traceback", "secret detail", "RuntimeError", "SECRET_KEY", "DATABASES",
                     settings.SECRET_KEY, "urlpatterns", "URLconf", "boom", str(ROOT)):  # fmt: skip
            assert leak not in page


# F4: the same security headers on every kind of response.

EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000",
}
EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def missing_headers(response: HttpResponse) -> list[str]:
    missing = [
        name for name, value in EXPECTED_HEADERS.items() if response.headers.get(name) != value
    ]
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    if directives != EXPECTED_CSP:
        missing.append("Content-Security-Policy")
    return missing


def test_the_fixed_policy_is_django_csps_and_a_view_of_its_own_still_gets_its_own(settings):
    """The headers built once per process are the ones django-csp builds; a response that
    carries a policy of its own (django-csp's decorators) or is exempt goes through django-csp."""
    from csp.decorators import csp_exempt, csp_update
    from csp.utils import build_policy
    from django.test import RequestFactory

    from pulpanalytics.middleware import FixedPolicyCSPMiddleware

    def answer(view):
        request = RequestFactory().get("/x")
        middleware = FixedPolicyCSPMiddleware(view)
        return middleware(request)

    plain = answer(lambda request: HttpResponse("x"))
    updated = answer(csp_update({"img-src": ["https://img.example.org"]})(lambda r: HttpResponse()))
    exempt = answer(csp_exempt()(lambda request: HttpResponse("x")))
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    both = answer(lambda request: HttpResponse("x"))

    # Only the policy: the other security headers come from other middleware.
    assert "Content-Security-Policy" not in missing_headers(plain)
    assert plain["Content-Security-Policy"] == build_policy()
    assert "img-src 'self' data: https://img.example.org" in updated["Content-Security-Policy"]
    assert "Content-Security-Policy" not in exempt
    assert both["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    assert both["Content-Security-Policy"] == plain["Content-Security-Policy"]


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_security_headers(settings, telemetry):
    settings.WHITENOISE_USE_FINDERS = True  # serve the admin's static files without collectstatic
    settings.REPORT_RATE_LIMIT = 2  # the third POST gets 429
    client = Client()
    body = telemetry(SYSTEM)
    responses = {
        "public page": client.get("/", secure=True),
        "static file": client.get("/static/admin/css/base.css", secure=True),
        "ingest 200": client.post("/", body, content_type="", secure=True),
        "ingest 400": client.post("/", b"\xff", content_type="", secure=True),
        "ingest 405": client.put("/", body, content_type="", secure=True),
        "ingest 429": client.post("/", body, content_type="", secure=True),
        "admin login": client.get("/admin/login/", secure=True),
        "not found": client.get("/nowhere/", secure=True),
    }
    statuses = {kind: response.status_code for kind, response in responses.items()}
    assert statuses == {
        "public page": 200,
        "static file": 200,
        "ingest 200": 200,
        "ingest 400": 400,
        "ingest 405": 405,
        "ingest 429": 429,
        "admin login": 200,
        "not found": 404,
    }
    assert "whitenoise" in type(responses["static file"]).__module__
    missing = {kind: missing_headers(r) for kind, r in responses.items() if missing_headers(r)}
    assert missing == {}


@pytest.mark.django_db  # the overview page reads the summaries
def test_plain_http_gets_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


INLINE_SCRIPT_RE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.django_db
def test_no_page_has_inline_script_the_policy_would_block(admin_client):
    pages = {
        "/": Client().get("/"),
        "/admin/login/": Client().get("/admin/login/"),
        "/admin/": admin_client.get("/admin/"),
        "/admin/pulpanalytics/system/": admin_client.get("/admin/pulpanalytics/system/"),
    }
    for url, response in pages.items():
        assert response.status_code == 200, url
        assert INLINE_SCRIPT_RE.findall(response.content.decode()) == [], url
    templates = (ROOT / "pulpanalytics" / "templates").rglob("*.html")
    for template in templates:
        assert INLINE_SCRIPT_RE.findall(template.read_text()) == [], template


# F5: the admin.


@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def login(client: Client, username: str, password: str, *, token: bool = True) -> HttpResponse:
    client.get("/admin/login/")
    data = {"username": username, "password": password}
    if token:
        data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    return client.post("/admin/login/?next=/admin/", data)


@pytest.mark.django_db
def test_anonymous_admin_visitors_are_sent_to_the_login(csrf_client):
    response = csrf_client.get("/admin/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/admin/")


@pytest.mark.django_db
def test_an_active_user_who_is_not_staff_cannot_log_in(csrf_client):
    User.objects.create_user("visitor", password="right-password")
    response = login(csrf_client, "visitor", "right-password")
    assert response.status_code == 200
    assert "correct username and password for a staff account" in response.content.decode()
    assert "_auth_user_id" not in csrf_client.session
    assert csrf_client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_staff_without_permissions_get_403_on_change_pages(csrf_client):
    User.objects.create_user("helper", password="right-password", is_staff=True)
    other = User.objects.create_user("other", password="x")
    assert login(csrf_client, "helper", "right-password").status_code == 302
    assert csrf_client.get(f"/admin/auth/user/{other.pk}/change/").status_code == 403
    assert csrf_client.get("/admin/pulpanalytics/system/").status_code == 403
    assert csrf_client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_an_admin_login_without_csrf_token_is_refused(csrf_client):
    User.objects.create_superuser("staff", "staff@example.org", "right-password")
    response = login(csrf_client, "staff", "right-password", token=False)
    assert response.status_code == 403
    assert "_auth_user_id" not in csrf_client.session


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(csrf_client):
    User.objects.create_superuser("staff", "staff@example.org", "right-password")
    page = csrf_client.get("/admin/login/")
    response = login(csrf_client, "staff", "right-password")
    assert response.status_code == 302
    for cookie in (page.cookies["csrftoken"], response.cookies["sessionid"]):
        assert (cookie["secure"], cookie["httponly"], cookie["samesite"]) == (True, True, "Lax")


# F6: one CSRF-exempt view.


def every_url(patterns: list, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += every_url(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.callback))
    return found


def test_only_the_ingest_view_is_csrf_exempt():
    urls = every_url(get_resolver().url_patterns)
    exempt = [(route, view) for route, view in urls if getattr(view, "csrf_exempt", False)]
    assert len(urls) > 20  # the admin's URLs were walked too
    assert exempt == [("", views.root)]


# The settings block: what the environment turns into.


def test_production_sends_hsts_and_secure_cookies_and_debug_serves_plain_http():
    names = ("SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    assert settings_of(*names, **production()) == {
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
    }
    assert settings_of(*names, DEBUG="true") == {
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
    }


def test_a_trusted_proxy_redis_and_connection_variables_are_read():
    values = settings_of(
        "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXY_COUNT", "CACHES", "DATABASES",
        **production(
            TRUSTED_PROXY_COUNT="1",
            REDIS_URL="redis://cache:6379/2",
            DATABASE_URL="postgres://u@db/pulp",
            DB_CONN_MAX_AGE="0",
            DB_CONN_HEALTH_CHECKS="off",
            DB_STATEMENT_TIMEOUT_MS="250",
        ),
    )  # fmt: skip
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["TRUSTED_PROXY_COUNT"] == 1
    assert values["CACHES"] == {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://cache:6379/2",
        },
        "charts": {
            "BACKEND": "pulpanalytics.memory_cache.BoundedMemoryCache",
            "OPTIONS": {"MAX_BYTES": 33554432},
        },
    }
    database = values["DATABASES"]["default"]
    assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (0, False)
    assert database["OPTIONS"] == {"options": "-c statement_timeout=250"}


def test_a_statement_timeout_of_zero_sets_no_option():
    values = settings_of(
        "DATABASES", **production(DATABASE_URL="postgres://u@db/pulp", DB_STATEMENT_TIMEOUT_MS="0")
    )
    assert "OPTIONS" not in values["DATABASES"]["default"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL='http://cache:6379': use redis://"),
        ({"REPORT_RATE_LIMIT": "many"}, "REPORT_RATE_LIMIT='many' is not an integer"),
        ({"RATE_LIMIT_WINDOW_SECONDS": "0"}, "RATE_LIMIT_WINDOW_SECONDS='0' must be at least 1"),
        ({"DB_STATEMENT_TIMEOUT_MS": "-5"}, "DB_STATEMENT_TIMEOUT_MS='-5' must be at least 0"),
    ],
)
def test_a_bad_security_or_limit_value_stops_start_up(env, message):
    assert message in refused(**production(**env))
