"""What the runner needs from a package registry, whatever the ecosystem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import aiohttp

from packguard.common.purl import PackageRef


@dataclass(frozen=True, slots=True)
class ArtifactLocation:
    url: str
    filename: str
    digest_algorithm: str
    """A hashlib name: sha256 (PyPI), sha512 or sha1 (npm)."""
    expected_digest: str
    """Hex digest the downloaded bytes must match."""
    size_bytes: int | None = None


class RegistryAdapter(Protocol):
    async def locate(self, session: aiohttp.ClientSession, package: PackageRef) -> ArtifactLocation:
        """The release's primary artifact; PackageNotFound if there is none."""
        ...

    async def locate_all(
        self, session: aiohttp.ClientSession, package: PackageRef
    ) -> tuple[ArtifactLocation, ...]:
        """Every artifact of ``package`` to analyse, primary first (PyPI: the sdist and
        one wheel when both exist); PackageNotFound if there is none."""
        ...
