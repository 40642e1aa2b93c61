"""Fetch an artifact's bytes to disk: size-capped, digest-verified, never opened."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from packguard.common.errors import (
    ArtifactTooLarge,
    DigestMismatch,
    PackageNotFound,
    RegistryUnavailable,
)
from packguard.runner.registries.base import ArtifactLocation

_CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class DownloadedArtifact:
    path: Path
    size_bytes: int
    sha256: str


async def download_artifact(
    session: aiohttp.ClientSession, location: ArtifactLocation, target: Path, *, max_bytes: int
) -> DownloadedArtifact:
    if location.size_bytes is not None and location.size_bytes > max_bytes:
        raise ArtifactTooLarge(f"artifact is {location.size_bytes} bytes, cap is {max_bytes}")
    expected = hashlib.new(location.digest_algorithm)
    sha256 = hashlib.sha256()
    size = 0
    try:
        async with session.get(location.url) as response:
            if response.status in (404, 410):
                raise PackageNotFound(f"artifact download answered {response.status}")
            if response.status != 200:
                raise RegistryUnavailable(f"artifact download answered {response.status}")
            if (response.content_length or 0) > max_bytes:
                raise ArtifactTooLarge(f"artifact is {response.content_length} bytes")
            with target.open("wb") as sink:
                async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ArtifactTooLarge(f"artifact exceeds the cap of {max_bytes} bytes")
                    expected.update(chunk)
                    sha256.update(chunk)
                    sink.write(chunk)
    except (aiohttp.ClientError, TimeoutError) as exc:
        target.unlink(missing_ok=True)
        raise RegistryUnavailable(f"artifact download failed: {exc}") from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if not hmac.compare_digest(expected.hexdigest(), location.expected_digest.lower()):
        target.unlink(missing_ok=True)
        raise DigestMismatch(
            f"{location.digest_algorithm} of the download does not match the registry's"
        )
    return DownloadedArtifact(path=target, size_bytes=size, sha256=sha256.hexdigest())
