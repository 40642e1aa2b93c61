"""Components: documented, covered by scenarios, and composed in a safe order."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.k8s.manifests import COMPONENTS, KUSTOMIZE, Doc, find, object_id, render

COMPONENT_NAMES = sorted(p.name for p in COMPONENTS.iterdir() if p.is_dir())
ORDER_SENSITIVE_LAST = "canary"
README_SECTIONS = ("## Purpose", "## Prerequisites", "## Ordering")


def _kustomizations() -> dict[Path, dict[str, Any]]:
    return {
        path: yaml.safe_load(path.read_text()) for path in KUSTOMIZE.glob("*/*/kustomization.yaml")
    }


def _component_names(kustomization: dict[str, Any]) -> list[str]:
    return [Path(str(c)).name for c in kustomization.get("components") or []]


def test_expected_components_exist() -> None:
    assert set(COMPONENT_NAMES) >= {
        "gvisor",
        "managed-services",
        "monitoring",
        "pgbouncer",
        "canary",
    }


@pytest.mark.parametrize("component", COMPONENT_NAMES)
def test_component_has_readme_with_purpose_prerequisites_ordering(component: str) -> None:
    readme = (COMPONENTS / component / "README.md").read_text()
    for section in README_SECTIONS:
        assert section in readme, f"{component}/README.md lacks {section}"
    kustomization = yaml.safe_load((COMPONENTS / component / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Component"


@pytest.mark.parametrize("component", COMPONENT_NAMES)
def test_every_component_is_rendered_by_a_scenario(component: str) -> None:
    scenarios = {
        path.parent.name: _component_names(k)
        for path, k in _kustomizations().items()
        if path.parent.parent.name == "tests"
    }
    assert any(component in names for names in scenarios.values()), component
    assert scenarios.get(component) == [component], f"tests/{component} renders it alone"


def test_order_sensitive_component_comes_last_everywhere() -> None:
    for path, kustomization in _kustomizations().items():
        names = _component_names(kustomization)
        if ORDER_SENSITIVE_LAST in names:
            assert names[-1] == ORDER_SENSITIVE_LAST, path
            assert "overlays" not in path.parts, f"{path}: apply canary over an overlay"


def _canary_pairs(rendered: dict[str, list[Doc]]) -> list[tuple[str, Doc, Doc]]:
    pairs = []
    for target, docs in rendered.items():
        ids = {object_id(d) for d in docs}
        if "Deployment/packguard/gateway-canary" in ids:
            pairs.append(
                (
                    target,
                    find(docs, "Deployment", "gateway", "packguard"),
                    find(docs, "Deployment", "gateway-canary", "packguard"),
                )
            )
    return pairs


def test_canary_runs_the_stable_pod_spec_with_its_own_image(
    rendered: dict[str, list[Doc]],
) -> None:
    pairs = _canary_pairs(rendered)
    assert len(pairs) >= 4
    for target, stable, canary in pairs:
        stable_pod = stable["spec"]["template"]["spec"]
        canary_pod = copy.deepcopy(canary["spec"]["template"]["spec"])
        stable_image = stable_pod["containers"][0]["image"]
        canary_image = canary_pod["containers"][0]["image"]
        assert canary_image != stable_image, target
        canary_pod["containers"][0]["image"] = stable_image
        assert canary_pod == stable_pod, f"{target}: canary pod spec drifted from the gateway"


def test_canary_ingress_serves_the_stable_hosts(rendered: dict[str, list[Doc]]) -> None:
    for target, docs in rendered.items():
        if "Ingress/packguard/gateway-canary" not in {object_id(d) for d in docs}:
            continue
        stable = find(docs, "Ingress", "gateway", "packguard")["spec"]
        canary = find(docs, "Ingress", "gateway-canary", "packguard")
        assert canary["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"] == "true"
        assert canary["spec"].get("tls") == stable.get("tls"), target
        assert [r["host"] for r in canary["spec"]["rules"]] == [
            r["host"] for r in stable["rules"]
        ], target
        backends = {
            p["backend"]["service"]["name"]
            for r in canary["spec"]["rules"]
            for p in r["http"]["paths"]
        }
        assert backends == {"gateway-canary"}, target


def _write(folder: Path, kustomization: dict[str, object]) -> Path:
    folder.mkdir(parents=True)
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return folder


def _rel(folder: Path, target: Path) -> str:
    return os.path.relpath(target, folder)


@pytest.mark.parametrize(
    "scenario",
    [
        "in-cluster-with-all-components",
        "managed-with-all-components",
        "monitoring-then-managed-services",
    ],
)
def test_components_before_canary_commute(
    scenario: str, rendered: dict[str, list[Doc]], tmp_path: Path
) -> None:
    """Reversing the components (canary stays last) swaps every pair of them and changes
    nothing: only canary (and only against an overlay's own patches) is order-sensitive."""
    kustomization = yaml.safe_load(
        (KUSTOMIZE / "tests" / scenario / "kustomization.yaml").read_text()
    )
    names = _component_names(kustomization)
    tail = names[-1:] if names[-1] == ORDER_SENSITIVE_LAST else []
    movable = names[: len(names) - len(tail)]
    assert len(movable) >= 2
    folder = tmp_path / "reversed"
    kustomization["resources"] = [_rel(folder, KUSTOMIZE / "base")]
    kustomization["components"] = [
        _rel(folder, COMPONENTS / name) for name in [*reversed(movable), *tail]
    ]
    reversed_docs = render(_write(folder, kustomization))

    def by_id(docs: list[Doc]) -> dict[str, Doc]:
        return {object_id(doc): doc for doc in docs}

    assert by_id(reversed_docs) == by_id(rendered[f"tests/{scenario}"])


def test_canary_inside_an_overlay_misses_the_overlays_patches(tmp_path: Path) -> None:
    """Why canary goes over a finished overlay: components run before the kustomization's
    own patches, so a canary listed inside staging would copy the Ingress before staging
    sets its host (the staging-with-canary scenario shows the right way)."""
    folder = tmp_path / "canary-inside"
    staging = yaml.safe_load(
        (KUSTOMIZE / "overlays" / "staging" / "kustomization.yaml").read_text()
    )
    staging["resources"] = [_rel(folder, KUSTOMIZE / "base")]
    staging["components"] = [
        _rel(folder, KUSTOMIZE / "overlays" / "staging" / str(c)) for c in staging["components"]
    ] + [_rel(folder, COMPONENTS / "canary")]
    docs = render(_write(folder, staging))
    stable = find(docs, "Ingress", "gateway", "packguard")["spec"]["rules"][0]["host"]
    canary = find(docs, "Ingress", "gateway-canary", "packguard")["spec"]["rules"][0]["host"]
    assert (stable, canary) == ("staging.packguard.example", "packguard.example")
