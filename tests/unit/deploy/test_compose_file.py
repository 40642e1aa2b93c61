"""docker-compose.yml: valid, and every service configured the way its code reads it.

No compose binary is needed: the file is parsed with PyYAML (anchors merged), variables
are substituted as compose does, and the result is checked against a schema of the
Compose Specification subset we use, then against the settings classes, the images'
health probe and the Prometheus scrape configuration.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from prometheus_client import CollectorRegistry
from pydantic_settings import BaseSettings

from packguard.common.settings import StorageSettings
from packguard.devstack import SERVICE_NAMES
from packguard.gateway.metrics import GatewayMetrics
from packguard.gateway.settings import GatewaySettings
from packguard.reporter.metrics import ReporterMetrics
from packguard.reporter.settings import ReporterSettings
from packguard.runner.metrics import RunnerMetrics
from packguard.runner.settings import RunnerSettings
from packguard.scheduler.metrics import SchedulerMetrics
from packguard.scheduler.settings import SchedulerSettings

HERE = Path(__file__).parent
# The one variable without a default (the runner image has no npm to ask).
REQUIRED_ENV = {"NPM_REGISTRY_URL": "http://registry.invalid/npm/"}
SETTINGS: dict[str, tuple[type[BaseSettings], ...]] = {
    "gateway": (GatewaySettings, StorageSettings),
    "scheduler": (SchedulerSettings,),
    "runner": (RunnerSettings, StorageSettings),
    "reporter": (ReporterSettings, StorageSettings),
}
# Read with os.environ rather than a settings class (packguard.common.tracing).
OTHER_ENV = {"OTEL_TRACES_EXPORTER"}
USES_DATABASE = {"gateway", "scheduler", "reporter"}
USES_STORAGE = {"gateway", "runner", "reporter"}
OBSERVABILITY = {"prometheus", "loki", "alloy", "grafana"}

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ is a literal $.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)


class MissingVariable(ValueError):
    """A `${VAR:?message}` variable is unset."""


def interpolate(value: Any, environ: Mapping[str, str]) -> Any:
    """Substitute variables the way compose does, in every string of a loaded document."""
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"] or "", match["arg"] or ""
        current = environ.get(name)
        unset = current is None or (op.startswith(":") and current == "")
        if op.endswith("?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        if op.endswith("-") and unset:
            return str(interpolate(arg, environ))
        return current or ""

    return _VARIABLE.sub(substitute, value)


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def settings_env_names(*classes: type[BaseSettings]) -> set[str]:
    """The variables a settings class reads: its field names, upper-cased."""
    return {name.upper() for cls in classes for name in cls.model_fields}


@pytest.fixture(scope="module")
def raw_compose(repo_root: Path) -> dict[str, Any]:
    document = yaml.safe_load((repo_root / "docker-compose.yml").read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def compose(raw_compose: dict[str, Any]) -> dict[str, Any]:
    """The file as compose resolves it with defaults and the one required variable set."""
    resolved = interpolate(raw_compose, REQUIRED_ENV)
    assert isinstance(resolved, dict)
    return resolved


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def test_compose_file_matches_the_specification_subset(raw_compose: dict[str, Any]) -> None:
    schema = json.loads((HERE / "compose_subset.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    resolved = interpolate(raw_compose, REQUIRED_ENV)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(resolved), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_compose_without_npm_registry_url_names_the_missing_variable(
    raw_compose: dict[str, Any],
) -> None:
    with pytest.raises(MissingVariable, match="NPM_REGISTRY_URL"):
        interpolate(raw_compose, {})


def test_compose_runs_each_service_image_with_its_own_entrypoint(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in SERVICE_NAMES:
        service = services[name]
        assert service["image"] == f"localhost/packguard-{name}:latest"
        assert service["pull_policy"] == "never"
        # The image's entrypoint runs `python -m packguard.<name>` (deploy/images).
        assert "command" not in service and "entrypoint" not in service
        assert "profiles" not in service


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_compose_service_environment_is_read_by_its_settings(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    env = environment(services[name])
    known = settings_env_names(*SETTINGS[name]) | OTHER_ENV
    assert set(env) <= known, f"{name} is given variables its code never reads"
    required = {"REDIS_URL"}
    if name in USES_DATABASE:
        required.add("DATABASE_URL")
    if name in USES_STORAGE:
        required |= settings_env_names(StorageSettings)
    if name == "runner":
        required |= {"DOCKER_HOST", "ANALYZER_IMAGE", "WORK_DIR", "NPM_REGISTRY_URL"}
    assert required <= set(env)
    # Every value parses: the settings classes accept what compose passes.
    for cls in SETTINGS[name]:
        cls.model_validate({key.lower(): value for key, value in env.items()})


def test_compose_connection_urls_name_the_compose_servers(
    services: dict[str, dict[str, Any]],
) -> None:
    postgres = environment(services["postgres"])
    s3 = services["s3"]
    s3_port = next(int(a.split("=")[1]) for a in s3["command"] if a.startswith("-s3.port="))
    for name in SERVICE_NAMES:
        env = environment(services[name])
        redis = urlsplit(env["REDIS_URL"])
        assert (redis.hostname, redis.port or 6379) == ("redis", 6379)
        if name in USES_DATABASE:
            database = urlsplit(env["DATABASE_URL"])
            assert (database.hostname, database.port) == ("postgres", 5432)
            assert database.username == postgres["POSTGRES_USER"]
            assert database.password == postgres["POSTGRES_PASSWORD"]
            assert database.path == f"/{postgres['POSTGRES_DB']}"
        if name in USES_STORAGE:
            endpoint = urlsplit(env["S3_ENDPOINT_URL"])
            assert (endpoint.hostname, endpoint.port) == ("s3", s3_port)
            s3_env = environment(s3)
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                assert env[key] == s3_env[key]
            assert f"-bucket={env['S3_BUCKET']}" in s3["command"]


def test_compose_listeners_match_published_ports_probes_and_scrapes(
    services: dict[str, dict[str, Any]], repo_root: Path, healthcheck: ModuleType
) -> None:
    scrape = yaml.safe_load(
        (repo_root / "deploy/observability/prometheus/prometheus.yml").read_text()
    )
    scraped = {
        job["job_name"]: (job["dns_sd_configs"][0]["names"], job["dns_sd_configs"][0]["port"])
        for job in scrape["scrape_configs"]
    }
    for name in SERVICE_NAMES:
        env = environment(services[name])
        if name == "gateway":
            host, port = env["HOST"], int(env["PORT"])
            published = [p.rsplit(":", 1)[1] for p in services[name]["ports"]]
            assert published == [str(port)]
        else:
            host, port = env["METRICS_HOST"], int(env["METRICS_PORT"])
            assert "ports" not in services[name]  # scaled replicas would collide
        assert host == "0.0.0.0"
        assert port > 0
        assert scraped[name] == ([name], port)
        probe = healthcheck.probe_url({**env, "PACKGUARD_SERVICE": name})
        assert probe == f"http://127.0.0.1:{port}/ready/"
        assert services[name]["healthcheck"]["test"] == [
            "CMD",
            "/opt/packguard/bin/packguard-healthcheck",
        ]


def test_compose_dependencies_wait_for_healthy_servers(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if "profiles" not in service:
                assert "profiles" not in services[target], f"{name} needs optional {target}"
                assert rule["condition"] == "service_healthy"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no health check"
    for name in ("redis", "postgres", "s3", *SERVICE_NAMES):
        assert "profiles" not in services[name]


def test_compose_redis_keeps_an_append_only_file_and_never_evicts(
    services: dict[str, dict[str, Any]],
) -> None:
    command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command


def test_compose_runner_reaches_the_engine_and_shares_its_work_dir_path(
    services: dict[str, dict[str, Any]],
) -> None:
    runner = services["runner"]
    env = environment(runner)
    mounts = [volume.split(":") for volume in runner["volumes"]]
    socket = env["DOCKER_HOST"].removeprefix("unix://")
    assert any(target == socket for _, target, *_ in mounts), "DOCKER_HOST socket not mounted"
    # Bind mounts name paths on the engine's host: the runner must see them identically.
    assert [env["WORK_DIR"], env["WORK_DIR"]] in [m[:2] for m in mounts]


def test_compose_observability_profile_mounts_files_that_exist(
    services: dict[str, dict[str, Any]], repo_root: Path
) -> None:
    optional = {name for name, s in services.items() if "profiles" in s}
    assert optional == OBSERVABILITY
    for name in OBSERVABILITY:
        assert services[name]["profiles"] == ["observability"]
        for volume in services[name].get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (repo_root / source).exists(), f"{name} mounts missing {source}"


def exported_metric_names() -> set[str]:
    """Every series name the services can export, suffixes included."""
    registry = CollectorRegistry()
    SchedulerMetrics(registry)
    RunnerMetrics.create(registry)
    ReporterMetrics(registry)
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "gauge": ("",),
    }
    names: set[str] = set()
    for source in (registry, GatewayMetrics().registry):
        for family in source.collect():
            names.update(family.name + suffix for suffix in suffixes[family.type])
    return names


def test_dashboard_queries_only_metrics_the_services_export(repo_root: Path) -> None:
    exported = exported_metric_names()
    dashboards = sorted((repo_root / "deploy/observability/grafana/dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        dashboard = json.loads(path.read_text())
        queried = {
            metric
            for panel in dashboard["panels"]
            for target in panel.get("targets", [])
            if panel["datasource"]["type"] == "prometheus"
            for metric in re.findall(r"\bpackguard_[a-z_]+", target["expr"])
        }
        assert queried, path
        assert queried <= exported, f"{path.name} queries {sorted(queried - exported)}"
