"""Offline schema validation: kubernetes-validate's bundled core schemas (strict: unknown
fields fail) and the CRD schemas kept in ``<repo>/../shared/k8s-schemas``."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate
from referencing import Registry, Resource

from tests.unit.k8s.manifests import REPO, Doc

KUBERNETES_VERSION = "1.31"
"""The oldest minor we support on DOKS; native sidecars need 1.29 or later."""
CRD_SCHEMAS = REPO.parent / "shared" / "k8s-schemas"


class SchemaSet:
    """One compiled validator per kind, built on first use (the core set is large)."""

    def __init__(self, crd_root: Path = CRD_SCHEMAS, version: str = KUBERNETES_VERSION) -> None:
        self._crd_root = crd_root
        self._core_dir = resources.files(kubernetes_validate) / "kubernetes-json-schema"
        self._core_dir = self._core_dir / f"v{version}.0-local-strict"
        self._validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
        self._registry: Registry | None = None

    def errors(self, doc: Doc) -> list[str]:
        validator = self._validator(doc["apiVersion"], doc["kind"])
        return [
            f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
            for error in validator.iter_errors(doc)
        ]

    def _validator(self, api_version: str, kind: str) -> jsonschema.protocols.Validator:
        key = (api_version, kind)
        if key not in self._validators:
            self._validators[key] = self._build(api_version, kind)
        return self._validators[key]

    def _build(self, api_version: str, kind: str) -> jsonschema.protocols.Validator:
        group, _, version = api_version.rpartition("/")
        crd_file = self._crd_root / group / f"{kind.lower()}_{version}.json"
        if group and crd_file.is_file():
            return jsonschema.Draft7Validator(json.loads(crd_file.read_text()))
        # rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1 (kubernetes-validate's naming)
        core_name = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        core_file = self._core_dir / f"{kind.lower()}-{core_name}.json"
        if not core_file.is_file():
            raise LookupError(
                f"no schema for {api_version} {kind}: neither a core kind nor in {self._crd_root}"
            )
        schema: Any = json.loads(core_file.read_text())
        return jsonschema.Draft202012Validator(
            schema, registry=Resource.from_contents(schema) @ self._core_registry()
        )

    def _core_registry(self) -> Registry:
        if self._registry is None:
            definitions = json.loads((self._core_dir / "_definitions.json").read_text())
            self._registry = Resource.from_contents(definitions) @ Registry()
        return self._registry
