"""Every Kustomize target renders, holds no duplicates and validates against the core
Kubernetes schemas and the CRD schemas in ../shared/k8s-schemas."""

from __future__ import annotations

import json

import pytest

from tests.unit.k8s.manifests import KUSTOMIZE, Doc, object_id, targets
from tests.unit.k8s.schemas import CRD_SCHEMAS, SchemaSet

EXPECTED_TARGETS = {
    "base",
    "overlays/dev",
    "overlays/staging",
    "overlays/prod",
    "tests/gvisor",
    "tests/managed-services",
    "tests/monitoring",
    "tests/pgbouncer",
    "tests/canary",
}
NAMESPACES = {"packguard", "packguard-sandbox", "monitoring"}


def test_targets_include_base_overlays_and_one_scenario_per_component() -> None:
    assert set(targets()) >= EXPECTED_TARGETS


def test_every_scenario_and_overlay_is_a_kustomization() -> None:
    for group in ("overlays", "tests"):
        for folder in (KUSTOMIZE / group).iterdir():
            assert (folder / "kustomization.yaml").is_file(), f"{folder} has no kustomization"


def test_crd_schemas_folder_is_present() -> None:
    assert (CRD_SCHEMAS / "keda.sh" / "scaledobject_v1alpha1.json").is_file(), (
        f"CRD schemas missing at {CRD_SCHEMAS} (expected <repo>/../shared/k8s-schemas)"
    )


@pytest.mark.parametrize("target", sorted(targets()))
def test_target_renders_without_duplicates(target: str, rendered: dict[str, list[Doc]]) -> None:
    docs = rendered[target]
    ids = [object_id(doc) for doc in docs]
    assert docs, f"{target} rendered nothing"
    assert len(ids) == len(set(ids)), f"duplicates in {target}"


@pytest.mark.parametrize("target", sorted(targets()))
def test_namespaced_objects_live_in_our_namespaces(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    cluster_scoped = {"Namespace", "ClusterIssuer"}
    for doc in rendered[target]:
        if doc["kind"] in cluster_scoped:
            continue
        assert doc["metadata"].get("namespace") in NAMESPACES, object_id(doc)


def test_every_object_validates_against_its_schema(
    rendered: dict[str, list[Doc]], schema_set: SchemaSet
) -> None:
    seen: set[str] = set()
    failures: list[str] = []
    for target, docs in sorted(rendered.items()):
        for doc in docs:
            key = json.dumps(doc, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            failures += [f"{target} {object_id(doc)}: {e}" for e in schema_set.errors(doc)]
    assert not failures, "\n".join(failures)
    assert len(seen) > 100  # sanity: the loop really covered the renders


def test_schema_check_rejects_a_misspelt_field(
    rendered: dict[str, list[Doc]], schema_set: SchemaSet
) -> None:
    for kind in ("Deployment", "ScaledObject", "PrometheusRule", "ClusterIssuer"):
        doc = next(d for d in rendered["tests/monitoring"] if d["kind"] == kind)
        broken = json.loads(json.dumps(doc))
        broken["spec"]["replicaz"] = 1
        assert schema_set.errors(broken), f"{kind}: a misspelt field went unnoticed"
