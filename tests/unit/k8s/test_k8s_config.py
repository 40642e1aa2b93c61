"""Every variable the manifests give a service is one its settings class reads, and the
configured values pass that class's validation."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings

from packguard.common.settings import StorageSettings
from packguard.gateway.settings import GatewaySettings
from packguard.reporter.settings import ReporterSettings
from packguard.runner.settings import RunnerSettings
from packguard.scheduler.settings import SchedulerSettings
from tests.unit.k8s.manifests import Doc, containers, env_names, targets

SETTINGS: dict[str, tuple[type[BaseSettings], ...]] = {
    "gateway": (GatewaySettings, StorageSettings),
    "scheduler": (SchedulerSettings,),
    "reporter": (ReporterSettings, StorageSettings),
    "runner": (RunnerSettings, StorageSettings),
}
# Read by libraries rather than our settings: OpenTelemetry's exporter switch, libpq's
# CA file for verify-full TLS to managed PostgreSQL (asyncpg honours it).
LIBRARY_VARIABLES = {"OTEL_TRACES_EXPORTER", "PGSSLROOTCERT"}
REQUIRED = {
    "gateway": {"DATABASE_URL", "REDIS_URL", "S3_BUCKET", "HOST", "PORT"},
    "scheduler": {"DATABASE_URL", "REDIS_URL", "METRICS_PORT", "METRICS_HOST"},
    "reporter": {"DATABASE_URL", "REDIS_URL", "S3_BUCKET", "METRICS_PORT", "METRICS_HOST"},
    "runner": {
        "REDIS_URL",
        "S3_BUCKET",
        "DOCKER_HOST",
        "WORK_DIR",
        "ANALYZER_IMAGE",
        "METRICS_PORT",
        "METRICS_HOST",
    },
}


def _fields(classes: tuple[type[BaseSettings], ...]) -> set[str]:
    return {name.upper() for cls in classes for name in cls.model_fields}


def _service_containers(docs: list[Doc]) -> list[tuple[str, str, Doc]]:
    found = []
    for container in containers(docs):
        if container.name in SETTINGS and container.role == "main":
            namespace = container.owner.split("/")[1]
            found.append((container.name, namespace, container.spec))
    return found


@pytest.mark.parametrize("target", sorted(targets()))
def test_service_variables_are_settings_fields(target: str, rendered: dict[str, list[Doc]]) -> None:
    docs = rendered[target]
    services = _service_containers(docs)
    assert {name for name, _, _ in services} == set(SETTINGS)
    for service, namespace, spec in services:
        names = env_names(spec, docs, namespace)
        unknown = names - _fields(SETTINGS[service]) - LIBRARY_VARIABLES
        assert not unknown, f"{target} {service}: no setting reads {sorted(unknown)}"
        missing = REQUIRED[service] - names
        assert not missing, f"{target} {service}: {sorted(missing)} not configured"


@pytest.mark.parametrize("target", ["base", "overlays/dev", "overlays/staging", "overlays/prod"])
def test_configured_values_pass_settings_validation(
    target: str, rendered: dict[str, list[Doc]], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = rendered[target]
    by_name = {
        (d["metadata"]["namespace"], d["metadata"]["name"]): d.get("data", {})
        for d in docs
        if d["kind"] == "ConfigMap"
    }
    for service, namespace, spec in _service_containers(docs):
        classes = SETTINGS[service]
        with monkeypatch.context() as env:
            for name in _fields(classes) | LIBRARY_VARIABLES:
                env.delenv(name, raising=False)
            for source in spec.get("envFrom", []):
                for key, value in by_name[(namespace, source["configMapRef"]["name"])].items():
                    env.setenv(key, value)
            for entry in spec.get("env", []):
                # Secret values are not in the manifests: any well-formed stand-in will do.
                env.setenv(entry["name"], entry.get("value", "redis://placeholder.invalid/0"))
            for cls in classes:
                settings = cls()
                assert settings.model_dump(), f"{service} settings empty"


def _configured(spec: Doc, docs: list[Doc], namespace: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        ref = source["configMapRef"]["name"]
        values |= next(
            d.get("data", {})
            for d in docs
            if d["kind"] == "ConfigMap"
            and d["metadata"]["name"] == ref
            and d["metadata"]["namespace"] == namespace
        )
    return values


@pytest.mark.parametrize("target", ["base", "overlays/dev", "overlays/prod"])
def test_probes_reach_the_port_the_service_listens_on(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    """Probes come from the kubelet, on the pod IP: the listener must bind 0.0.0.0 on the
    port the probes name."""
    docs = rendered[target]
    for service, namespace, spec in _service_containers(docs):
        values = _configured(spec, docs, namespace)
        host, port = ("HOST", "PORT") if service == "gateway" else ("METRICS_HOST", "METRICS_PORT")
        assert values[host] == "0.0.0.0", f"{service}: {host}"
        ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            http = spec[probe]["httpGet"]
            assert ports[http["port"]] == int(values[port]), f"{service} {probe}"
        assert spec["livenessProbe"]["httpGet"]["path"] == "/health/"
        assert spec["readinessProbe"]["httpGet"]["path"] == "/ready/"
