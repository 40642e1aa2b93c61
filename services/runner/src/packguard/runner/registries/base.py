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
        """The exact artifact of ``package`` to analyse; PackageNotFound if there is none."""
        ...
