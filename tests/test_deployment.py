"""openshift/ and the Containerfile: the fields that matter, and that what they name exists."""

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.urls import resolve

from pulpanalytics import monitoring
from tests.helpers import (
    GOOD_KEY,
    OPENSHIFT,
    ROOT,
    load_config,
    manifests,
    refused,
    settings_of,
    the,
)

CONTAINERFILE = ROOT / "Containerfile"
SECRET_NAMES = {"SECRET_KEY", "APP_KEY", "DATABASE_URL", "DB_PASSWORD", "SYSTEM_ID_KEY"}


def containers(kind: str) -> list[dict]:
    spec = the(kind)["spec"]
    if kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]["containers"]


def web() -> dict:
    (container,) = containers("Deployment")
    return container


def gunicorn_port(monkeypatch: pytest.MonkeyPatch) -> int:
    (address,) = load_config(monkeypatch).bind
    return int(address.rpartition(":")[2])


def readme_variables() -> set[str]:
    """Every variable named in the first column of a README.md table row."""
    names = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_every_manifest_holds_one_named_object_of_the_expected_kinds():
    found = manifests()
    assert {str(path): obj["kind"] for path, obj in found.items()} == {
        "buildconfig.yaml": "BuildConfig",
        "configmap.yaml": "ConfigMap",
        "cronjob-summarize.yaml": "CronJob",
        "deployment.yaml": "Deployment",
        "imagestream.yaml": "ImageStream",
        "networkpolicy.yaml": "NetworkPolicy",
        "route.yaml": "Route",
        "service.yaml": "Service",
        # Apart, so that `oc apply -f openshift/` (not recursive) neither runs nor overwrites them.
        "jobs/migrate.yaml": "Job",
        "templates/secret.yaml": "Secret",
        "monitoring/servicemonitor.yaml": "ServiceMonitor",
        "monitoring/prometheusrule.yaml": "PrometheusRule",
    }
    for obj in found.values():
        assert obj["apiVersion"]
        assert obj["metadata"]["name"].startswith("pulpanalytics")
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == "pulpanalytics"


def test_the_deployment_runs_two_replicas_probed_on_readyz_and_healthz(monkeypatch):
    deployment = the("Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = web()
    assert container["ports"] == [{"name": "http", "containerPort": gunicorn_port(monkeypatch)}]
    readiness = container["readinessProbe"]["httpGet"]
    liveness = container["livenessProbe"]["httpGet"]
    assert (readiness["path"], readiness["port"]) == ("/readyz", "http")
    assert (liveness["path"], liveness["port"]) == ("/healthz", "http")
    assert resolve(readiness["path"]).func is monitoring.readyz
    assert resolve(liveness["path"]).func is monitoring.healthz
    # The image's CMD (gunicorn with gunicorn.conf.py) is what runs.
    assert "command" not in container and "args" not in container
    pod_ip = {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    assert pod_ip in container["env"]


def test_the_grace_period_covers_the_pre_stop_pause_and_gunicorns_graceful_timeout(monkeypatch):
    pod = the("Deployment")["spec"]["template"]["spec"]
    assert web()["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    assert pod["terminationGracePeriodSeconds"] > 5 + load_config(monkeypatch).graceful_timeout


@pytest.mark.parametrize("kind", ["Deployment", "CronJob", "Job"])
def test_every_pod_reads_the_configmap_and_secret_and_has_requests_and_limits(kind):
    (container,) = containers(kind)
    assert container["envFrom"] == [
        {"configMapRef": {"name": the("ConfigMap")["metadata"]["name"]}},
        {"secretRef": {"name": the("Secret")["metadata"]["name"]}},
    ]
    for bound in ("requests", "limits"):
        assert set(container["resources"][bound]) == {"cpu", "memory"}
    assert container["image"] == f"{the('ImageStream')['metadata']['name']}:latest"
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["runAsNonRoot"] is True


def test_the_service_and_the_route_lead_to_the_web_pods():
    pod_labels = the("Deployment")["spec"]["template"]["metadata"]["labels"]
    service = the("Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] in {p["name"] for p in web()["ports"]}
    route = the("Route")["spec"]
    assert route["to"] == {"kind": "Service", "name": service["metadata"]["name"], "weight": 100}
    assert route["port"]["targetPort"] == port["name"]
    assert route["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}
    settings = the("ConfigMap")["data"]
    assert route["host"] in settings["ALLOWED_HOSTS"].split(",")
    assert f"https://{route['host']}" in settings["CSRF_TRUSTED_ORIGINS"].split(",")


def test_only_the_router_and_prometheus_reach_the_web_pods_whose_proxy_headers_are_trusted():
    assert the("ConfigMap")["data"]["TRUSTED_PROXY_COUNT"] == "1"
    policy = the("NetworkPolicy")["spec"]
    pod_labels = the("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["policyTypes"] == ["Ingress"]
    sources = []
    for rule in policy["ingress"]:
        assert rule["ports"] == [{"protocol": "TCP", "port": "http"}]
        (peer,) = rule["from"]
        assert set(peer) == {"namespaceSelector"}  # whole namespaces chosen by label, no IPs
        sources.append(peer["namespaceSelector"]["matchLabels"])
    assert sources == [
        {"policy-group.network.openshift.io/ingress": ""},
        {"network.openshift.io/policy-group": "monitoring"},
    ]
    assert "`networkpolicy.yaml`" in (OPENSHIFT / "README.md").read_text()


def test_the_cronjob_runs_the_summarize_command_once_a_day_in_utc_never_two_at_once():
    cronjob = the("CronJob")["spec"]
    _minute, _hour, *every_day = cronjob["schedule"].split()
    assert every_day == ["*", "*", "*"]
    assert cronjob["timeZone"] == "Etc/UTC"
    assert cronjob["concurrencyPolicy"] == "Forbid"
    assert cronjob["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    (container,) = containers("CronJob")
    python, script, command = container["command"]
    assert (python, command) == ("python", "summarize")
    assert (ROOT / script).is_file()
    assert command in get_commands()


def test_the_migrate_job_runs_a_real_django_command_with_options_it_accepts():
    (container,) = containers("Job")
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert (ROOT / "manage.py").is_file()
    app = get_commands()["migrate"]
    parser = load_command_class(app, "migrate").create_parser("manage.py", "migrate")
    assert parser.parse_args(container["command"][3:]).interactive is False


def test_builds_of_the_containerfile_feed_the_image_every_pod_names():
    build = the("BuildConfig")["spec"]
    assert (ROOT / build["strategy"]["dockerStrategy"]["dockerfilePath"]) == CONTAINERFILE
    stream = the("ImageStream")
    assert stream["spec"]["lookupPolicy"]["local"] is True
    tag = f"{stream['metadata']['name']}:latest"
    assert build["output"]["to"] == {"kind": "ImageStreamTag", "name": tag}
    (trigger,) = json.loads(
        the("Deployment")["metadata"]["annotations"]["image.openshift.io/triggers"]
    )
    assert trigger["from"] == {"kind": "ImageStreamTag", "name": tag}
    assert f'@.name=="{web()["name"]}"' in trigger["fieldPath"]


def test_the_configmap_holds_documented_non_secret_strings_that_load():
    data = the("ConfigMap")["data"]
    assert all(isinstance(value, str) for value in data.values())
    assert not SECRET_NAMES & set(data)
    assert set(data) <= readme_variables()
    values = settings_of(
        "DEBUG",
        "ALLOWED_HOSTS",
        "DATABASES",
        **data,
        SECRET_KEY=GOOD_KEY,
        DATABASE_URL="postgres://u:p@postgresql/analytics",
    )
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["analytics.pulpproject.org"]
    assert values["DATABASES"]["default"]["HOST"] == "postgresql"


def test_the_secret_template_holds_only_placeholders_the_site_refuses_to_start_with():
    secret = the("Secret")
    assert secret["stringData"].keys() == {"SECRET_KEY", "DATABASE_URL"}
    assert all("change-me" in value for value in secret["stringData"].values())
    assert set(secret["stringData"]) <= readme_variables()
    message = refused(**the("ConfigMap")["data"], **secret["stringData"])
    assert "SECRET_KEY must be at least 50 characters" in message


def instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of the final stage of the Containerfile, continuation lines joined."""
    parsed, current = [], ""
    for line in CONTAINERFILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        keyword, _, arguments = (current + line).partition(" ")
        parsed.append((keyword.upper(), " ".join(arguments.split())))
        current = ""
    last_from = max(i for i, (keyword, _) in enumerate(parsed) if keyword == "FROM")
    return parsed[last_from:]


def arguments(keyword: str) -> list[str]:
    return [args for key, args in instructions() if key == keyword]


def test_the_image_starts_gunicorn_with_the_repo_config_as_a_non_root_user(monkeypatch):
    (cmd,) = arguments("CMD")
    assert json.loads(cmd) == ["gunicorn", "--config", "gunicorn.conf.py"]
    assert (ROOT / "gunicorn.conf.py").is_file()
    assert "gunicorn" in (ROOT / "requirements.txt").read_text()
    assert arguments("USER") == ["1001"]
    assert arguments("EXPOSE") == [str(gunicorn_port(monkeypatch))]
    assert arguments("ENTRYPOINT") == []


def test_the_image_installs_the_pinned_requirements():
    assert "pip install -r requirements.txt" in arguments("RUN")
    assert "requirements.txt ./" in arguments("COPY")
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line), line


def test_the_image_collects_static_files_with_build_only_dummy_settings():
    (collect,) = [run for run in arguments("RUN") if "collectstatic" in run]
    assert collect.startswith(
        'SECRET_KEY="$BUILD_SECRET_KEY" ALLOWED_HOSTS="$BUILD_ALLOWED_HOSTS"'
        " python manage.py collectstatic --noinput"
    )
    build_args = dict(arg.split("=", 1) for arg in arguments("ARG"))
    values = settings_of(
        "DEBUG",
        SECRET_KEY=build_args["BUILD_SECRET_KEY"],
        ALLOWED_HOSTS=build_args["BUILD_ALLOWED_HOSTS"],
    )
    assert values == {"DEBUG": False}
    # The dummies never reach the running container's environment.
    assert not any("SECRET_KEY" in env for env in arguments("ENV"))


def test_every_file_the_containerfile_copies_from_the_context_exists():
    sources = [
        Path(ROOT, *shlex.split(copy)[:-1])
        for copy in arguments("COPY")
        if not copy.startswith("--from")
    ]
    assert sources == [ROOT / "requirements.txt", ROOT]
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".venv", "node_modules", "staticfiles", "db.sqlite3*", ".git"} <= set(ignored)


def test_npm_ci_runs_in_the_build_only_when_package_json_exists(tmp_path):
    text = CONTAINERFILE.read_text()
    (step,) = re.findall(r"^RUN (.*npm ci.*)$", text, flags=re.MULTILINE)
    # Run the very shell line with an npm that records how it was called.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text('#!/bin/sh\necho "$@" >> npm-calls\nmkdir -p node_modules/x\n')
    (bin_dir / "npm").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}

    without = tmp_path / "without"
    without.mkdir()
    subprocess.run(["/bin/sh", "-c", step], cwd=without, env=env, check=True)
    assert (without / "node_modules").is_dir()
    assert not (without / "npm-calls").exists()

    with_package = tmp_path / "with"
    with_package.mkdir()
    (with_package / "package.json").write_text("{}")
    subprocess.run(["/bin/sh", "-c", step], cwd=with_package, env=env, check=True)
    assert (with_package / "npm-calls").read_text() == "ci --no-audit --no-fund\n"
    assert (with_package / "node_modules" / "x").is_dir()
