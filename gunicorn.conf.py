"""gunicorn settings: `gunicorn --config gunicorn.conf.py` (the container's command).

gunicorn also reads ./gunicorn.conf.py on its own, so `make run` uses it too; its command-line
options win over these. Values come from the environment, like app/settings.py; that module is not
imported here because the master process needs no Django settings.
"""

import os
import shutil
import tempfile
from pathlib import Path

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker


def _env_int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        kind = "positive" if minimum else "non-negative"
        raise ValueError(f"{name}={raw!r} is not a {kind} integer")
    return int(raw)


# gunicorn's asyncio worker in front of Django (app/asgi.py): a client sending its body or
# reading its answer slowly holds a coroutine, not the worker, as it held a sync worker. Django
# runs in a few threads per worker, each with its own persistent database connection.
wsgi_app = "app.asgi:application"
worker_class = "asgi"
# 0.0.0.0: in a container the port is reached from outside the container's own network namespace.
bind = [f"0.0.0.0:{_env_int('PORT', 8080)}"]
# Not from os.cpu_count(): in a pod it counts the node's CPUs, not the pod's CPU limit.
# Two workers fit the Deployment's limits; ingest is short database-bound requests.
workers = _env_int("WEB_CONCURRENCY", 2)
# The worker's event loop beats the heartbeat; a request stuck in Django this long is logged and
# its worker replaced (app/asgi.py, REQUEST_TIMEOUT_SECONDS).
timeout = 30
# On SIGTERM (a rollout) workers get this long to finish their requests; the Deployment's
# terminationGracePeriodSeconds covers it plus the preStop pause.
graceful_timeout = 25
# Connections come from the OpenShift router, which reuses them.
keepalive = 5
# No gunicornc control socket: the platform scales and restarts pods, and its default path under
# $HOME would be shared by every gunicorn of one user (and need a writable home in the container).
control_socket_disable = True
# The worker heartbeat file: in memory, so a slow disk cannot make a healthy worker look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Forwarded headers count only with a proxy declared in front, as in app/settings.py: without
# one, gunicorn would take X-Forwarded-Proto from loopback peers (its default) and Django would
# answer plain HTTP as HTTPS (HSTS included). With the OpenShift router in front, any peer may
# set X-Forwarded-Proto (the router's address is not known in advance); only the router reaches
# the pods (openshift/networkpolicy.yaml).
if _env_int("TRUSTED_PROXY_COUNT", 0, minimum=0):
    forwarded_allow_ips = "*"
    secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
else:
    forwarded_allow_ips = ""
    secure_scheme_headers = {}

# Logs: stdout only, one JSON object per line (app/log_format.py), like Django's (LOGGING).
# The access line holds no client address or user agent: the site stores none either; the
# formatter removes addresses from gunicorn's other lines.
accesslog = "-"
errorlog = "-"
# The same LOG_LEVEL as Django's; a bad value stops start-up (logging.config refuses it).
_level = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
loglevel = _level.lower()
access_log_format = '"%(r)s" %(s)s %(B)s bytes %(M)s ms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.log_format.JsonLineFormatter", "hide_addresses": True}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "root": {"handlers": ["stdout"], "level": _level},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": _level, "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}

# The Prometheus counters' directory when PROMETHEUS_MULTIPROC_DIR is not given; removed on exit.
_created_metrics_dirs: list[str] = []


def on_starting(server: Arbiter) -> None:
    """Before any worker exists: give the workers one empty directory for their counter files.

    Set here and not at import, so that loading this file (tests do) changes no environment; the
    workers inherit the variable and prometheus_client reads it when the app is imported.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        # Files of a previous run would add its counts to ours.
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        created = tempfile.mkdtemp(prefix="pulpanalytics-prometheus-")
        _created_metrics_dirs.append(created)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = created


def child_exit(server: Arbiter, worker: Worker) -> None:
    """A worker is gone: its counter file stays (its counts still count); drop its live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Arbiter) -> None:
    for directory in _created_metrics_dirs:
        shutil.rmtree(directory, ignore_errors=True)
