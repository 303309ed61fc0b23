"""Settings for pulpanalytics: one module, every value from the environment.

A fresh checkout needs no variable at all (DEBUG off would refuse to start, so the Makefile's
`run` target sets DEBUG for the demo). Every variable is listed, with its default, in README.md.
A bad value stops start-up with ImproperlyConfigured naming the variable.
"""

import hashlib
import hmac
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)"
    )


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str, *, variable: str = "DATABASE_URL") -> dict:
    """postgres://user:pass@host:port/name or sqlite:///path (sqlite:////abs/path)."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"{variable} names no database: {url!r}")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{variable} has a bad port: {url!r}") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
        }
    if parts.scheme == "sqlite":
        path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
        if not path:
            raise ImproperlyConfigured(f"{variable} names no SQLite file: {url!r}")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    raise ImproperlyConfigured(
        f"{variable}={url!r}: unsupported scheme {parts.scheme!r} (use postgres:// or sqlite:///)"
    )


def database_from_env() -> dict:
    url = env_str("DATABASE_URL")
    if url:
        return database_from_url(url)
    if env_str("DB_DATABASE") or env_str("DB_HOST"):
        # The variables existing Pulp analytics deployments use.
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env_str("DB_DATABASE", "pulpanalytics"),
            "USER": env_str("DB_USERNAME"),
            "PASSWORD": env_str("DB_PASSWORD"),
            "HOST": env_str("DB_HOST"),
            "PORT": str(env_int("DB_PORT", 5432, minimum=1)),
        }
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")}


DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "dev-only-key-pulpanalytics-never-use-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY") or env_str("APP_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or APP_KEY) is required when DEBUG is off")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG:
    # Django's own check only warns about weak keys; in production we refuse to start.
    if SECRET_KEY.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "SECRET_KEY must not be a 'django-insecure-' key when DEBUG is off"
        )
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY must be at least 50 characters with at least 5 distinct ones"
            " when DEBUG is off"
        )

# The keyed hash of system ids must stay stable across deploys: derived from SECRET_KEY unless set.
SYSTEM_ID_KEY = (
    env_str("SYSTEM_ID_KEY")
    or hmac.new(SECRET_KEY.encode(), b"pulpanalytics.system_id", hashlib.sha256).hexdigest()
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off (comma-separated)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

COLLECT_DEV_SYSTEMS = env_bool("COLLECT_DEV_SYSTEMS", False)
PERSISTENT_MIN_AGE_DAYS = env_int("PERSISTENT_MIN_AGE_DAYS", 1)
RAW_RETENTION_DAYS = env_int("RAW_RETENTION_DAYS", 14)
MAX_REPORT_BYTES = env_int("MAX_REPORT_BYTES", 65536, minimum=1)
# A day is summarized this long after it ended, so reports in flight at midnight are counted.
SUMMARIZE_GRACE_MINUTES = env_int("SUMMARIZE_GRACE_MINUTES", 10)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pulpanalytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pulpanalytics.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "app.urls"
WSGI_APPLICATION = "app.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end dependencies come from the npm registry (package.json, installed by `npm ci`), never
# from the repository or a CDN; collectstatic picks them up from node_modules.
STATICFILES_DIRS = [("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist")]
# With DEBUG on (make run), serve static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": "INFO"},
}
