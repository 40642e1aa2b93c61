"""Renders every Kustomize target once per session; the k8s tests read the results."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.unit.k8s.manifests import Doc, kubectl, render, targets
from tests.unit.k8s.schemas import SchemaSet


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Doc]]:
    if kubectl() is None:
        pytest.skip("kubectl (with Kustomize v5) is not installed")
    found = targets()
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = pool.map(render, found.values())
        return dict(zip(found, outputs, strict=True))


@pytest.fixture(scope="session")
def schema_set() -> SchemaSet:
    return SchemaSet()
