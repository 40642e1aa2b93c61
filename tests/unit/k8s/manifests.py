"""Render the Kustomize targets and walk what they produce (pods, containers, env)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
KUSTOMIZE = REPO / "k8s" / "kustomize"
COMPONENTS = KUSTOMIZE / "components"

Doc = dict[str, Any]

_POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
ONE_SHOT_KINDS = frozenset({"Job", "CronJob"})


def kubectl() -> str | None:
    return shutil.which("kubectl")


def targets() -> dict[str, Path]:
    """Every buildable kustomization: the base, each overlay, each scenario."""
    found = {"base": KUSTOMIZE / "base"}
    for group in ("overlays", "tests"):
        for kustomization in sorted((KUSTOMIZE / group).glob("*/kustomization.yaml")):
            found[f"{group}/{kustomization.parent.name}"] = kustomization.parent
    return found


def render(path: Path) -> list[Doc]:
    """`kubectl kustomize` of one directory, as a list of objects."""
    binary = kubectl()
    assert binary, "kubectl is not installed"
    done = subprocess.run(
        [binary, "kustomize", str(path)], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise AssertionError(f"kubectl kustomize {path} failed:\n{done.stderr}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def object_id(doc: Doc) -> str:
    meta = doc["metadata"]
    return f"{doc['kind']}/{meta.get('namespace', '-')}/{meta['name']}"


def find(docs: list[Doc], kind: str, name: str, namespace: str | None = None) -> Doc:
    for doc in docs:
        meta = doc["metadata"]
        same_namespace = namespace is None or meta.get("namespace") == namespace
        if doc["kind"] == kind and meta["name"] == name and same_namespace:
            return doc
    raise KeyError(f"{kind}/{name} not rendered")


def find_generated(docs: list[Doc], kind: str, prefix: str, namespace: str) -> Doc:
    """A generated ConfigMap or Secret, whose name carries a content-hash suffix."""
    for doc in docs:
        meta = doc["metadata"]
        if doc["kind"] == kind and meta.get("namespace") == namespace:
            name = meta["name"]
            if name == prefix or name.rpartition("-")[0] == prefix:
                return doc
    raise KeyError(f"{kind}/{prefix}-<hash> not rendered in {namespace}")


def pod_spec(doc: Doc) -> Doc | None:
    path = _POD_TEMPLATE_PATHS.get(doc["kind"])
    if path is None:
        return None
    node: Any = doc
    for key in path:
        node = node[key]
    return dict(node)


@dataclass(frozen=True)
class Container:
    owner: str
    spec: Doc
    role: str
    """``main``, ``sidecar`` (init with restartPolicy Always) or ``init`` (runs once)."""
    one_shot_pod: bool

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def long_running(self) -> bool:
        return self.role in {"main", "sidecar"} and not self.one_shot_pod


def containers(docs: list[Doc]) -> Iterator[Container]:
    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        owner = object_id(doc)
        one_shot = doc["kind"] in ONE_SHOT_KINDS
        for init in spec.get("initContainers", []):
            role = "sidecar" if init.get("restartPolicy") == "Always" else "init"
            yield Container(owner, init, role, one_shot)
        for main in spec["containers"]:
            yield Container(owner, main, "main", one_shot)


def config_map_data(docs: list[Doc], name: str, namespace: str) -> dict[str, str]:
    return dict(find_generated(docs, "ConfigMap", name, namespace).get("data", {}))


def env_names(container: Doc, docs: list[Doc], namespace: str) -> set[str]:
    """Every variable a container sees: `env` entries plus keys of `envFrom` ConfigMaps."""
    names = {entry["name"] for entry in container.get("env", [])}
    by_name = {
        doc["metadata"]["name"]: doc
        for doc in docs
        if doc["kind"] == "ConfigMap" and doc["metadata"].get("namespace") == namespace
    }
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            names |= set(by_name[ref["name"]].get("data", {}))
    return names
