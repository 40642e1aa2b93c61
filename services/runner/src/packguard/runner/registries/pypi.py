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

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True, slots=True)
class PypiIndex:
    index_url: str

    async def locate(self, session: aiohttp.ClientSession, package: PackageRef) -> ArtifactLocation:
        page_url = f"{self.index_url.rstrip('/')}/{package.name}/"
        document = await fetch_json(session, page_url, accept=SIMPLE_JSON)
        files = document.get("files") if isinstance(document, dict) else None
        if not isinstance(files, list):
            raise PackageNotFound("index page has no file list")
        chosen = choose_distribution(files, package.version)
        if chosen is None:
            raise PackageNotFound(f"{package.name} has no release {package.version}")
        return ArtifactLocation(
            url=urljoin(page_url, chosen["url"]),
            filename=chosen["filename"],
            digest_algorithm="sha256",
            expected_digest=chosen["hashes"]["sha256"],
            size_bytes=chosen.get("size"),
        )


def choose_distribution(files: Iterable[Any], version: str) -> dict[str, Any] | None:
    """The release's sdist, else its most portable wheel; only files with a sha256."""
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
            if canonicalize_version(wheel_version) == wanted:
                portable = any(t.platform == "any" for t in tags)
                wheels.append((0 if portable else 1, entry))
        else:
            try:
                _, sdist_version = parse_sdist_filename(filename)
            except InvalidSdistFilename:
                continue
            if canonicalize_version(sdist_version) == wanted:
                sdists.append(entry)
    if sdists:
        return sdists[0]
    if wheels:
        return min(wheels, key=lambda pair: pair[0])[1]
    return None


def _is_usable(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("filename"), str)
        and isinstance(entry.get("url"), str)
        and isinstance(entry.get("hashes"), dict)
        and isinstance(entry["hashes"].get("sha256"), str)
        and "/" not in entry["filename"]
    )
