"""npm registries: the version document names the tarball and its integrity."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from packguard.common.errors import PackageNotFound
from packguard.common.purl import PackageRef
from packguard.runner.registries.base import ArtifactLocation
from packguard.runner.registries.http import fetch_json


@dataclass(frozen=True, slots=True)
class NpmRegistry:
    registry_url: str

    async def locate(self, session: aiohttp.ClientSession, package: PackageRef) -> ArtifactLocation:
        # Scoped names keep the '@' and escape the slash, as the registry API expects.
        name = quote(package.name, safe="@")
        url = f"{self.registry_url.rstrip('/')}/{name}/{quote(package.version, safe='')}"
        document = await fetch_json(session, url)
        return artifact_from_version_document(document, package)

    async def locate_all(
        self, session: aiohttp.ClientSession, package: PackageRef
    ) -> tuple[ArtifactLocation, ...]:
        return (await self.locate(session, package),)


def artifact_from_version_document(document: Any, package: PackageRef) -> ArtifactLocation:
    dist = document.get("dist") if isinstance(document, dict) else None
    if not isinstance(dist, dict) or not isinstance(dist.get("tarball"), str):
        raise PackageNotFound(f"{package.name}@{package.version} has no tarball")
    tarball: str = dist["tarball"]
    algorithm, digest = _digest(dist)
    filename = tarball.rsplit("/", 1)[-1] or "package.tgz"
    if "/" in filename or filename in (".", ".."):
        filename = "package.tgz"
    return ArtifactLocation(
        url=tarball, filename=filename, digest_algorithm=algorithm, expected_digest=digest
    )


def _digest(dist: dict[str, Any]) -> tuple[str, str]:
    """Prefer the SRI ``integrity`` (sha512); old packages only have a sha1 ``shasum``."""
    integrity = dist.get("integrity")
    if isinstance(integrity, str):
        for item in integrity.split():
            algorithm, _, encoded = item.partition("-")
            if algorithm in ("sha512", "sha384", "sha256"):
                return algorithm, base64.b64decode(encoded).hex()
    shasum = dist.get("shasum")
    if isinstance(shasum, str) and len(shasum) == 40:
        return "sha1", shasum.lower()
    raise PackageNotFound("registry gave no digest for the tarball")
