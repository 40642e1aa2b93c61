"""PyPI-style indexes through the PEP 691 JSON simple API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import aiohttp
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)

from packguard.common.errors import PackageNotFound
from packguard.common.purl import PackageRef
from packguard.runner.registries.base import ArtifactLocation
from packguard.runner.registries.http import fetch_json
from packguard.runner.registries.wheels import sandbox_rank

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True, slots=True)
class PypiIndex:
    index_url: str

    async def locate(self, session: aiohttp.ClientSession, package: PackageRef) -> ArtifactLocation:
        return (await self.locate_all(session, package))[0]

    async def locate_all(
        self, session: aiohttp.ClientSession, package: PackageRef
    ) -> tuple[ArtifactLocation, ...]:
        page_url = f"{self.index_url.rstrip('/')}/{package.name}/"
        document = await fetch_json(session, page_url, accept=SIMPLE_JSON)
        files = document.get("files") if isinstance(document, dict) else None
        if not isinstance(files, list):
            raise PackageNotFound("index page has no file list")
        chosen = choose_distributions(files, package.version)
        if not chosen:
            raise PackageNotFound(f"{package.name} has no release {package.version}")
        return tuple(
            ArtifactLocation(
                url=urljoin(page_url, entry["url"]),
                filename=entry["filename"],
                digest_algorithm="sha256",
                expected_digest=entry["hashes"]["sha256"],
                size_bytes=entry.get("size"),
            )
            for entry in chosen
        )


def choose_distribution(files: Iterable[Any], version: str) -> dict[str, Any] | None:
    """The release's sdist, else its best wheel for the sandbox; only files with a sha256."""
    chosen = choose_distributions(files, version)
    return chosen[0] if chosen else None


def choose_distributions(files: Iterable[Any], version: str) -> list[dict[str, Any]]:
    """The release's sdist and the wheel the sandbox can best install, whichever exist
    (sdist first); wheels for other systems or CPUs are never chosen.

    Both, because they can differ: a wheel may carry code the sdist does not, and only
    the sdist runs setup.py at install time.
    """
    wanted = canonicalize_version(version)
    sdists: list[dict[str, Any]] = []
    wheels: list[tuple[int, dict[str, Any]]] = []
    for entry in files:
        if not _is_usable(entry):
            continue
        filename = entry["filename"]
        if filename.endswith(".whl"):
            try:
                _, wheel_version, _, tags = parse_wheel_filename(filename)
            except InvalidWheelFilename:
                continue
            rank = sandbox_rank(tags)
            if canonicalize_version(wheel_version) == wanted and rank is not None:
                wheels.append((rank, entry))
        else:
            try:
                _, sdist_version = parse_sdist_filename(filename)
            except InvalidSdistFilename:
                continue
            if canonicalize_version(sdist_version) == wanted:
                sdists.append(entry)
    chosen = sdists[:1]
    if wheels:
        chosen.append(min(wheels, key=lambda pair: pair[0])[1])
    return chosen


def _is_usable(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("filename"), str)
        and isinstance(entry.get("url"), str)
        and isinstance(entry.get("hashes"), dict)
        and isinstance(entry["hashes"].get("sha256"), str)
        and "/" not in entry["filename"]
    )
