"""Registry adapters, one module per ecosystem, one registry of them here."""

from __future__ import annotations

from packguard.common.purl import Ecosystem
from packguard.runner.registries.base import ArtifactLocation, RegistryAdapter
from packguard.runner.registries.discovery import npm_registry_url, pypi_index_url
from packguard.runner.registries.npm import NpmRegistry
from packguard.runner.registries.pypi import PypiIndex

__all__ = ["ArtifactLocation", "RegistryAdapter", "build_registries"]


def build_registries(
    *, pypi_index: str | None, npm_registry: str | None
) -> dict[Ecosystem, RegistryAdapter]:
    return {
        Ecosystem.PYPI: PypiIndex(pypi_index_url(pypi_index)),
        Ecosystem.NPM: NpmRegistry(npm_registry_url(npm_registry)),
    }
