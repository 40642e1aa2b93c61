"""Policies over every rendered target: resources, probes, pod security, no host access,
no literal secrets, pinned images."""

from __future__ import annotations

import base64
import copy
import re

import pytest

from tests.unit.k8s.manifests import Doc, containers, find, object_id, pod_spec, targets

# The one container allowed to run privileged: the runner pod's Docker engine sidecar,
# which must create namespaces, cgroups and mounts for the sandbox containers.
PRIVILEGED = {("Deployment/packguard-sandbox/runner", "engine")}
PINNED_TARGETS = [
    t for t in sorted(targets()) if t in {"overlays/prod", "overlays/staging"} or "prod" in t
]
_SECRET_NAME = re.compile(r"PASS|AUTH|SECRET|TOKEN|_KEY$|KEY_ID|CREDENTIAL|DATABASE_URL|REDIS_URL")
_URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]*:[^/@\s]+@")
DEV_PLACEHOLDER = "dev-insecure"
NOT_SECRET_KEYS = {"REDIS_ADDRESS"}
ALL = sorted(targets())


def _effective(container: Doc, pod: Doc, key: str) -> object:
    """A security setting from the container, else from the pod (Kubernetes' rule)."""
    value = container.get("securityContext", {}).get(key)
    return pod.get("securityContext", {}).get(key) if value is None else value


@pytest.mark.parametrize("target", ALL)
def test_every_container_has_requests_and_limits(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    for container in containers(rendered[target]):
        resources = container.spec.get("resources", {})
        for bound in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                assert resources.get(bound, {}).get(resource), (
                    f"{container.owner} {container.name}: no {bound}.{resource}"
                )


@pytest.mark.parametrize("target", ALL)
def test_every_long_running_container_has_probes(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    # Init containers that run once and Job pods end by themselves: they take no probes.
    for container in containers(rendered[target]):
        if container.long_running:
            for probe in ("livenessProbe", "readinessProbe"):
                assert probe in container.spec, f"{container.owner} {container.name}: {probe}"


def lockdown_violations(doc: Doc) -> list[str]:
    """What keeps the pod's containers from the restricted profile (the engine excepted)."""
    pod = pod_spec(doc)
    problems: list[str] = []
    for container in containers([doc]) if pod is not None else []:
        where = f"{container.owner} {container.name}"
        security = container.spec.get("securityContext", {})
        if (container.owner, container.name) in PRIVILEGED:
            continue
        checks = {
            "privileged": not security.get("privileged"),
            "allowPrivilegeEscalation": security.get("allowPrivilegeEscalation") is False,
            "readOnlyRootFilesystem": security.get("readOnlyRootFilesystem") is True,
            "capabilities": security.get("capabilities", {}).get("drop") == ["ALL"]
            and not security.get("capabilities", {}).get("add"),
            "runAsNonRoot": _effective(container.spec, pod or {}, "runAsNonRoot") is True,
            "runAsUser": _effective(container.spec, pod or {}, "runAsUser") != 0,
            "seccompProfile": _effective(container.spec, pod or {}, "seccompProfile")
            == {"type": "RuntimeDefault"},
        }
        problems += [f"{where}: {name}" for name, ok in checks.items() if not ok]
    return problems


@pytest.mark.parametrize("target", ALL)
def test_every_container_but_the_engine_is_locked_down(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    docs = rendered[target]
    problems = [problem for doc in docs for problem in lockdown_violations(doc)]
    assert not problems, "\n".join(problems)
    privileged = {
        (c.owner, c.name)
        for c in containers(docs)
        if c.spec.get("securityContext", {}).get("privileged")
    }
    has_runner = any(object_id(d) == "Deployment/packguard-sandbox/runner" for d in docs)
    assert privileged == (PRIVILEGED if has_runner else set())


def test_lockdown_check_flags_a_loose_container(rendered: dict[str, list[Doc]]) -> None:
    doc = copy.deepcopy(find(rendered["base"], "Deployment", "scheduler", "packguard"))
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    container["securityContext"]["capabilities"] = {"add": ["NET_ADMIN"], "drop": ["ALL"]}
    container["securityContext"]["runAsNonRoot"] = False
    assert {p.rsplit(": ", 1)[1] for p in lockdown_violations(doc)} == {
        "readOnlyRootFilesystem",
        "capabilities",
        "runAsNonRoot",
    }
    runner = copy.deepcopy(find(rendered["base"], "Deployment", "runner", "packguard-sandbox"))
    runner["metadata"]["namespace"] = "packguard"
    # The exception is for that one container in the sandbox namespace, nowhere else.
    assert "Deployment/packguard/runner engine: privileged" in lockdown_violations(runner)


@pytest.mark.parametrize("target", ALL)
def test_no_host_access(target: str, rendered: dict[str, list[Doc]]) -> None:
    for doc in rendered[target]:
        pod = pod_spec(doc)
        if pod is None:
            continue
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(flag), f"{object_id(doc)}: {flag}"
        for volume in pod.get("volumes", []):
            # No hostPath at all, so certainly no host Docker socket.
            assert "hostPath" not in volume, f"{object_id(doc)}: hostPath {volume}"
        assert pod.get("automountServiceAccountToken") is False, object_id(doc)
        for container in containers([doc]):
            for port in container.spec.get("ports", []):
                assert "hostPort" not in port, f"{object_id(doc)} {container.name}"


def test_namespaces_enforce_restricted_except_the_sandbox(
    rendered: dict[str, list[Doc]],
) -> None:
    namespaces = {
        d["metadata"]["name"]: d["metadata"]["labels"]
        for d in rendered["base"]
        if d["kind"] == "Namespace"
    }
    assert namespaces["packguard"]["pod-security.kubernetes.io/enforce"] == "restricted"
    sandbox = namespaces["packguard-sandbox"]
    assert sandbox["pod-security.kubernetes.io/enforce"] == "privileged"
    assert sandbox["pod-security.kubernetes.io/warn"] == "restricted"


@pytest.mark.parametrize("target", ALL)
def test_no_literal_secrets(target: str, rendered: dict[str, list[Doc]]) -> None:
    """Secrets are created out of band; only dev generates placeholder ones."""
    for doc in rendered[target]:
        where = object_id(doc)
        if doc["kind"] == "Secret":
            assert target == "overlays/dev", f"{where}: Secret objects only in dev"
            assert doc["metadata"]["annotations"]["packguard.dev/dev-placeholder"] == "true"
            for key, value in doc.get("data", {}).items():
                text = base64.b64decode(value).decode()
                if key not in NOT_SECRET_KEYS:
                    assert DEV_PLACEHOLDER in text, f"{where} {key}: not a dev placeholder"
        if doc["kind"] == "ConfigMap":
            for key, value in doc.get("data", {}).items():
                assert not _SECRET_NAME.search(key), f"{where}: secret-like key {key}"
                assert not _URL_WITH_PASSWORD.search(value), f"{where} {key}: URL password"
        for container in containers([doc]):
            for entry in container.spec.get("env", []):
                if _SECRET_NAME.search(entry["name"]) and entry["name"] != "HOME":
                    assert "secretKeyRef" in entry.get("valueFrom", {}), (
                        f"{where} {container.name}: {entry['name']} must come from a Secret"
                    )
                assert not _URL_WITH_PASSWORD.search(str(entry.get("value", ""))), where


def _is_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in {"", "latest"}


@pytest.mark.parametrize("target", PINNED_TARGETS)
def test_images_are_pinned(target: str, rendered: dict[str, list[Doc]]) -> None:
    docs = rendered[target]
    images = {c.spec["image"] for c in containers(docs)}
    analyzer = {
        d["data"]["ANALYZER_IMAGE"]
        for d in docs
        if d["kind"] == "ConfigMap" and "ANALYZER_IMAGE" in d.get("data", {})
    }
    assert analyzer, "the runner's ANALYZER_IMAGE is not configured"
    unpinned = sorted(image for image in images | analyzer if not _is_pinned(image))
    assert not unpinned, f"{target}: unpinned images {unpinned}"
    ours = {i for i in images | analyzer if "packguard/" in i}
    assert all(i.startswith("registry.example/packguard/") for i in ours), ours


@pytest.mark.parametrize("target", ALL)
def test_third_party_images_carry_a_version(target: str, rendered: dict[str, list[Doc]]) -> None:
    for container in containers(rendered[target]):
        image = container.spec["image"]
        if not image.startswith(("packguard/", "registry.example/")):
            assert _is_pinned(image), f"{container.owner} {container.name}: {image}"


def test_image_pin_check_rejects_latest_and_untagged() -> None:
    assert not _is_pinned("registry.example/packguard/gateway:latest")
    assert not _is_pinned("registry.example/packguard/gateway")
    assert not _is_pinned("localhost:5000/packguard/gateway")
    assert _is_pinned("registry.example/packguard/gateway:0.1.0")
    assert _is_pinned("localhost:5000/packguard/gateway:0.1.0")
    assert _is_pinned("docker@sha256:" + "0" * 64)


@pytest.mark.parametrize("target", ALL)
def test_workloads_spread_over_nodes(target: str, rendered: dict[str, list[Doc]]) -> None:
    for doc in rendered[target]:
        if doc["kind"] in {"Deployment", "StatefulSet"}:
            constraints = doc["spec"]["template"]["spec"].get("topologySpreadConstraints", [])
            keys = {c["topologyKey"] for c in constraints}
            assert "kubernetes.io/hostname" in keys, object_id(doc)


@pytest.mark.parametrize("target", ALL)
def test_autoscaled_deployments_leave_replicas_to_the_autoscaler(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    docs = rendered[target]
    scaled = {
        (d["metadata"]["namespace"], d["spec"]["scaleTargetRef"]["name"])
        for d in docs
        if d["kind"] in {"HorizontalPodAutoscaler", "ScaledObject"}
    }
    for doc in docs:
        key = (doc["metadata"].get("namespace"), doc["metadata"]["name"])
        if doc["kind"] == "Deployment" and key in scaled:
            assert "replicas" not in doc["spec"], f"{object_id(doc)}: fights its autoscaler"
