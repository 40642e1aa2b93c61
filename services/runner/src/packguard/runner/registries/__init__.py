"""Registry adapters, one module per ecosystem, one registry of them here."""

from __future__ import annotations

from collections.abc import Callable

from packguard.common.purl import Ecosystem
from packguard.runner.registries.base import ArtifactLocation, RegistryAdapter
from packguard.runner.registries.discovery import npm_registry_url, pypi_index_url
from packguard.runner.registries.npm import NpmRegistry
from packguard.runner.registries.pypi import PypiIndex

__all__ = ["ArtifactLocation", "RegistryAdapter", "build_registries", "build_registry"]


def build_registry(
    ecosystem: Ecosystem, *, pypi_index: str | None, npm_registry: str | None
) -> RegistryAdapter:
    """One adapter: discovery runs only for ``ecosystem`` (a pypi scan needs no npm)."""
    factories: dict[Ecosystem, Callable[[], RegistryAdapter]] = {
        Ecosystem.PYPI: lambda: PypiIndex(pypi_index_url(pypi_index)),
        Ecosystem.NPM: lambda: NpmRegistry(npm_registry_url(npm_registry)),
    }
    return factories[ecosystem]()


def build_registries(
    *, pypi_index: str | None, npm_registry: str | None
) -> dict[Ecosystem, RegistryAdapter]:
    return {
        ecosystem: build_registry(ecosystem, pypi_index=pypi_index, npm_registry=npm_registry)
        for ecosystem in Ecosystem
    }
