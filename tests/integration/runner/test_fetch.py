"""Locating and downloading artifacts from a real HTTP registry on loopback."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from packguard.common.errors import (
    ArtifactTooLarge,
    DigestMismatch,
    PackageNotFound,
    RegistryUnavailable,
)
from packguard.common.purl import parse_purl
from packguard.runner.download import download_artifact
from packguard.runner.registries.npm import NpmRegistry
from packguard.runner.registries.pypi import PypiIndex
from tests.fixtures.packages import BuiltArtifact, npm_tarball, pypi_sdist
from tests.fixtures.registry import FixtureRegistry

pytestmark = pytest.mark.integration


async def test_pypi_sdist_is_located_and_downloaded_with_verified_digest(
    fixture_registry: FixtureRegistry, tmp_path: Path
) -> None:
    sdist = pypi_sdist("demo-pkg", "1.0.0")
    fixture_registry.add_pypi("demo-pkg", sdist)
    async with aiohttp.ClientSession() as session:
        location = await PypiIndex(fixture_registry.pypi_index_url).locate(
            session, parse_purl("pkg:pypi/Demo_Pkg@1.0.0")
        )
        artifact = await download_artifact(
            session, location, tmp_path / location.filename, max_bytes=10**6
        )
    assert artifact.sha256 == sdist.sha256
    assert artifact.path.read_bytes() == sdist.data


async def test_npm_scoped_tarball_is_located_and_integrity_checked(
    fixture_registry: FixtureRegistry, tmp_path: Path
) -> None:
    tarball = npm_tarball("@demo/pkg", "2.0.0")
    fixture_registry.add_npm("@demo/pkg", "2.0.0", tarball)
    async with aiohttp.ClientSession() as session:
        location = await NpmRegistry(fixture_registry.npm_registry_url).locate(
            session, parse_purl("pkg:npm/%40demo/pkg@2.0.0")
        )
        artifact = await download_artifact(
            session, location, tmp_path / location.filename, max_bytes=10**6
        )
    assert location.digest_algorithm == "sha512"
    assert artifact.sha256 == tarball.sha256


@pytest.mark.parametrize("purl", ["pkg:pypi/absent@1.0.0", "pkg:pypi/demo-pkg@9.9.9"])
async def test_unknown_package_or_version_is_not_found(
    fixture_registry: FixtureRegistry, purl: str
) -> None:
    fixture_registry.add_pypi("demo-pkg", pypi_sdist("demo-pkg", "1.0.0"))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(PackageNotFound):
            await PypiIndex(fixture_registry.pypi_index_url).locate(session, parse_purl(purl))


async def test_registry_5xx_is_retryable_unavailability(fixture_registry: FixtureRegistry) -> None:
    fixture_registry.status_override["/npm/flaky/1.0.0"] = 503
    async with aiohttp.ClientSession() as session:
        with pytest.raises(RegistryUnavailable) as raised:
            await NpmRegistry(fixture_registry.npm_registry_url).locate(
                session, parse_purl("pkg:npm/flaky@1.0.0")
            )
    assert raised.value.retryable


async def test_tampered_artifact_fails_digest_check_and_leaves_no_file(
    fixture_registry: FixtureRegistry, tmp_path: Path
) -> None:
    sdist = pypi_sdist("demo-pkg", "1.0.0")
    fixture_registry.add_pypi("demo-pkg", sdist)
    async with aiohttp.ClientSession() as session:
        location = await PypiIndex(fixture_registry.pypi_index_url).locate(
            session, parse_purl("pkg:pypi/demo-pkg@1.0.0")
        )
        fixture_registry.pypi["demo-pkg"] = [BuiltArtifact(sdist.filename, sdist.data + b"x")]
        with pytest.raises(DigestMismatch):
            await download_artifact(session, location, tmp_path / "a.tar.gz", max_bytes=10**6)
    assert not (tmp_path / "a.tar.gz").exists()


async def test_oversized_artifact_is_refused(
    fixture_registry: FixtureRegistry, tmp_path: Path
) -> None:
    sdist = pypi_sdist("demo-pkg", "1.0.0", {"blob.bin": "x" * 50_000})
    fixture_registry.add_pypi("demo-pkg", sdist)
    async with aiohttp.ClientSession() as session:
        location = await PypiIndex(fixture_registry.pypi_index_url).locate(
            session, parse_purl("pkg:pypi/demo-pkg@1.0.0")
        )
        with pytest.raises(ArtifactTooLarge):
            await download_artifact(session, location, tmp_path / "a.tar.gz", max_bytes=100)
    assert not (tmp_path / "a.tar.gz").exists()
