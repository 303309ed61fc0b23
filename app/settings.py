"""Settings for pulpanalytics: one module, every value from the environment.

A fresh checkout needs no variable at all (DEBUG off would refuse to start, so the Makefile's
`run` target sets DEBUG for the demo). Every variable is listed, with its default, in README.md.
A bad value stops start-up with ImproperlyConfigured naming the variable.
"""

import hashlib
import hmac
import os
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
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


def env_float(name: str, default: float, *, minimum: float = 0.0, maximum: float = 1.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {minimum} and {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_addresses(name: str) -> list[tuple[str, str]]:
    """(name, address) of each "Name <address>" or bare address, comma-separated."""
    found = [parseaddr(item) for item in env_list(name, [])]
    for item, (_, address) in zip(env_list(name, []), found, strict=True):
        if "@" not in address:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a mail address")
    return found


# The databases this code is tested on (tests run on both).
DATABASE_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


def database_from_url(url: str) -> dict:
    """postgres://user:pass@host:port/name or sqlite:///path (sqlite:////abs/path)."""
    try:
        database = dj_database_url.parse(url)
    except dj_database_url.UnknownSchemeError:
        database = {"ENGINE": ""}
    except ValueError:
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a URL (a bad port, or a character to %-quote?): {url!r}"
        ) from None
    if database["ENGINE"] not in DATABASE_ENGINES.values():
        scheme = url.partition(":")[0]
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r}: unsupported scheme {scheme!r} (use postgres:// or sqlite:///)"
        )
    if database["NAME"] in {"", ":memory:"}:
        raise ImproperlyConfigured(f"DATABASE_URL names no database file or name: {url!r}")
    return database


def database_from_env() -> dict:
    url = env_str("DATABASE_URL")
    if url:
        return database_from_url(url)
    if env_str("DB_DATABASE") or env_str("DB_HOST"):
        # The variables existing Pulp analytics deployments use.
        return {
            "ENGINE": DATABASE_ENGINES["postgres"],
            "NAME": env_str("DB_DATABASE", "pulpanalytics"),
            "USER": env_str("DB_USERNAME"),
            "PASSWORD": env_str("DB_PASSWORD"),
            "HOST": env_str("DB_HOST"),
            "PORT": str(env_int("DB_PORT", 5432, minimum=1)),
        }
    return {"ENGINE": DATABASE_ENGINES["sqlite"], "NAME": str(BASE_DIR / "db.sqlite3")}


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
# A system whose previous report is this many days or more before today's is "returning".
GONE_AFTER_DAYS = env_int("GONE_AFTER_DAYS", 14, minimum=1)
# Reports deleted per prune transaction: short transactions, so ingest goes on meanwhile.
PRUNE_BATCH_SIZE = env_int("PRUNE_BATCH_SIZE", 2000, minimum=1)
# PostgreSQL: summarize creates the raw tables' partitions of today and this many days after it
# (pulpanalytics/partitions.py), so that reports land in their day's partition even after a
# week of failed runs.
PARTITION_DAYS_AHEAD = env_int("PARTITION_DAYS_AHEAD", 7)
MAX_REPORT_BYTES = env_int("MAX_REPORT_BYTES", 65536, minimum=1)
# A day is summarized this long after it ended, so reports in flight at midnight are counted.
SUMMARIZE_GRACE_MINUTES = env_int("SUMMARIZE_GRACE_MINUTES", 10)
# Public pages and API fold any count below this into "other" (1: show every count as stored).
PUBLIC_MIN_COUNT = env_int("PUBLIC_MIN_COUNT", 1, minimum=1)
# A count in a report above this (processes, hosts, users, ...) is stored but left out of the
# statistics, as if not sent: one installation cannot move a public average on its own.
PLAUSIBLE_MAX_COUNT = env_int("PLAUSIBLE_MAX_COUNT", 100000)
# A component name run by fewer persistent systems than this on a day is counted in the day's
# "other" entry, not by name: made-up names cannot fill a summary, a chart or a page.
PLUGIN_MIN_SYSTEMS = env_int("PLUGIN_MIN_SYSTEMS", 2, minimum=1)

# --- open data and the watchdog (README "Open data", "Watchdog") ---
# summarize flags a day whose systems fall below this share of the median of the 7 before it.
ALERT_DROP_RATIO = env_float("ALERT_DROP_RATIO", 0.7)
# The newest summary is stale this many hours after the day following it has ended.
SUMMARY_STALE_HOURS = env_int("SUMMARY_STALE_HOURS", 6)
# Who gets the watchdog's mail ("Name <address>" or a bare address, comma-separated), and the
# SMTP server that sends it; without ADMINS and EMAIL_HOST nothing is mailed.
ADMINS = env_addresses("ADMINS")
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
SERVER_EMAIL = env_str("SERVER_EMAIL", "pulpanalytics@localhost")
EMAIL_SUBJECT_PREFIX = "[pulpanalytics] "
# --- end of open data and the watchdog ---

INSTALLED_APPS = [
    # Not "django.contrib.admin": its AppConfig imports every admin module at start-up, and with
    # them forms, the summarize module and more, in every process; app/urls.py runs the
    # autodiscovery instead, so cron commands (manage.py summarize) start without it.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pulpanalytics",
    "csp",
]

# Whitenoise answers static requests itself, so every middleware that sets a security header
# (and the CSP of CONTENT_SECURITY_POLICY below) sits above it; the admin login throttle needs
# request.user, so it comes last.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pulpanalytics.middleware.FixedPolicyCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pulpanalytics.middleware.DatabaseUnavailableMiddleware",
    "pulpanalytics.middleware.AdminLoginThrottleMiddleware",
    "pulpanalytics.middleware.ReplicaReadsMiddleware",
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
# Where collectstatic writes the hashed, compressed files whitenoise serves with DEBUG off.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Front-end dependencies come from the npm registry (package.json, installed by `npm ci`), never
# from the repository or a CDN; collectstatic picks them up from node_modules.
STATICFILES_DIRS = [
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    # Marks on over-time charts (the first day of each core X.Y).
    (
        "vendor/chartjs-plugin-annotation",
        BASE_DIR / "node_modules" / "chartjs-plugin-annotation" / "dist",
    ),
]
# With DEBUG on (make run), serve static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- serving: health, metrics, logging ---
# Bearer token that /metrics requires; unset, /metrics answers 404.
METRICS_TOKEN = env_str("METRICS_TOKEN")

# The kubelet's probes and Prometheus reach a pod by its IP, which no one can list in advance:
# the Deployment hands it over through the downward API.
POD_IP = env_str("POD_IP").strip()
if POD_IP:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, f"[{POD_IP}]" if ":" in POD_IP else POD_IP]

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL={LOG_LEVEL!r} is not a level (use DEBUG, INFO, WARNING, ERROR or CRITICAL)"
    )
# One JSON object per line on stdout, for the log collector; gunicorn.conf.py does the same for
# gunicorn's own logs.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.log_format.JsonLineFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    # A 4xx is in gunicorn's access line and, for a report, in our own "report rejected" line;
    # Django's extra warning per 4xx would double them. Errors (5xx, tracebacks) still pass.
    "loggers": {"django.request": {"level": "ERROR"}},
}
# --- end of serving ---

# --- security, connections and abuse limits ---
# README "Security, connections and abuse limits" lists every variable of this block.


def with_connection_settings(database: dict) -> dict:
    """Persistent, health-checked connections and, on PostgreSQL, a statement timeout."""
    extra: dict = {
        "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
        # A connection the server dropped between requests is noticed before use, not by a client.
        "CONN_HEALTH_CHECKS": env_bool("DB_CONN_HEALTH_CHECKS", True),
    }
    timeout_ms = env_int("DB_STATEMENT_TIMEOUT_MS", 5000)
    if database["ENGINE"] == DATABASE_ENGINES["postgres"] and timeout_ms:
        # A held lock or a runaway query costs one request a 503, not a worker hung until killed.
        options = {**database.get("OPTIONS", {}), "options": f"-c statement_timeout={timeout_ms}"}
        extra["OPTIONS"] = options
    return {**database, **extra}


DATABASES["default"] = with_connection_settings(DATABASES["default"])
# An optional read replica of the same database: public pages and the API read there
# (pulpanalytics/replica.py); in tests it is the test database itself.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **with_connection_settings(database_from_url(DATABASE_REPLICA_URL)),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["pulpanalytics.replica.ReplicaRouter"]

# The OpenShift router terminates TLS and appends the peer it saw to X-Forwarded-For; it also
# overwrites X-Forwarded-Proto. Neither header is trusted unless a proxy is declared in front.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
# Off by default: the Route redirects plain HTTP itself (insecureEdgeTerminationPolicy: Redirect),
# and a 301 from here would turn a client's POST / into a GET and lose the report.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Cluster-internal probes speak plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# `make run` serves plain HTTP with DEBUG on, where Secure cookies would lock staff out.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Each silenced deploy check is a decision, explained in README "Silenced deploy checks".
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if not SECURE_SSL_REDIRECT:
    SILENCED_SYSTEM_CHECKS.append("security.W008")
if not SECURE_HSTS_INCLUDE_SUBDOMAINS:
    SILENCED_SYSTEM_CHECKS.append("security.W005")

# Scripts, styles and data come from this site only (Chart.js is served locally, chart data
# arrives through json_script and fetch); no inline script runs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for the images browsers draw inside form controls (Chromium's date picker).
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# The limits' counters live where every gunicorn worker sees them: a per-process cache would
# multiply each limit by the number of workers. With the database cache as the default cache
# (its table from migration 0003) they count in their own table (migration 0009, limits.py);
# with REDIS_URL, in Redis.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r}: use redis://, rediss:// or unix://")
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "pulpanalytics_cache",
            # Django culls live entries past MAX_ENTRIES; keep it far above the clients per window.
            "OPTIONS": {"MAX_ENTRIES": 100000},
        }
    }
# Only for the G2 experiment (bench/reliability/g2_locmem_limit.py), never in production: a
# per-process cache, so every limit is multiplied by the number of workers (check W001 warns).
CACHE_BACKEND = env_str("CACHE_BACKEND").strip().lower()
if CACHE_BACKEND == "locmem":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pulpanalytics-limits",
        }
    }
elif CACHE_BACKEND:
    raise ImproperlyConfigured(
        f"CACHE_BACKEND={CACHE_BACKEND!r}: the only choice is 'locmem' (unset: the database,"
        " or Redis with REDIS_URL)"
    )
# Chart data is immutable for a version of the summaries it was built from (its cache key), so
# each worker keeps its own copy in memory: a warm chart costs one small query. The cache is
# bounded in bytes, not entries (one entry may be a small chart or a list of megabytes), so that
# ranges picked at will cannot grow a worker past its share of the Deployment's memory limit.
CACHES["charts"] = {
    "BACKEND": "pulpanalytics.memory_cache.BoundedMemoryCache",
    "OPTIONS": {"MAX_BYTES": env_int("CHART_CACHE_MAX_BYTES", 32 * 1024 * 1024, minimum=1)},
}
RATE_LIMIT_WINDOW_SECONDS = env_int("RATE_LIMIT_WINDOW_SECONDS", 3600, minimum=1)
REPORT_RATE_LIMIT = env_int("REPORT_RATE_LIMIT", 10000)
NEW_SYSTEM_RATE_LIMIT = env_int("NEW_SYSTEM_RATE_LIMIT", 1000)
# Pages are kept per query string; renders of pages not kept yet, per client (page_cache.py).
UNCACHED_PAGE_RATE_LIMIT = env_int("UNCACHED_PAGE_RATE_LIMIT", 600)
ADMIN_LOGIN_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 10)
ADMIN_LOGIN_WINDOW_SECONDS = env_int("ADMIN_LOGIN_WINDOW_SECONDS", 900, minimum=1)
# --- end of security, connections and abuse limits ---
