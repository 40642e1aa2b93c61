"""What an artifact's file name says (pure): its ecosystem, and its package and version."""

from __future__ import annotations

import re

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from packguard.common.purl import Ecosystem, PackageRef, normalize_pypi_name

# Longest suffix first: ".tar.gz" must win over a bare ".gz".
_SUFFIXES: tuple[tuple[str, Ecosystem], ...] = (
    (".tar.gz", Ecosystem.PYPI),
    (".whl", Ecosystem.PYPI),
    (".zip", Ecosystem.PYPI),
    (".tgz", Ecosystem.NPM),
)
# npm pack names tarballs <name>-<version>.tgz; versions start with a digit.
_NPM_TARBALL = re.compile(r"^(?P<name>.+?)-(?P<version>\d[A-Za-z0-9._+-]*)\.tgz$")
UNKNOWN_VERSION = "0"


def detect_ecosystem(filename: str) -> Ecosystem | None:
    """The ecosystem an archive's name implies, or None when it says nothing."""
    lowered = filename.lower()
    for suffix, ecosystem in _SUFFIXES:
        if lowered.endswith(suffix):
            return ecosystem
    return None


def package_from_filename(filename: str, ecosystem: Ecosystem) -> PackageRef:
    """Name and version for the report, read from the archive's name when it follows the
    ecosystem's convention; otherwise the bare file stem at version "0"."""
    if ecosystem is Ecosystem.PYPI:
        try:
            if filename.endswith(".whl"):
                name, version, _, _ = parse_wheel_filename(filename)
            else:
                name, version = parse_sdist_filename(filename)
            return PackageRef(ecosystem, normalize_pypi_name(name), str(version))
        except (InvalidSdistFilename, InvalidWheelFilename):
            pass
    else:
        match = _NPM_TARBALL.match(filename)
        if match:
            return PackageRef(ecosystem, match["name"].lower(), match["version"])
    return PackageRef(ecosystem, _stem(filename), UNKNOWN_VERSION)


def _stem(filename: str) -> str:
    for suffix, _ in _SUFFIXES:
        if filename.lower().endswith(suffix):
            return filename[: -len(suffix)] or "package"
    return filename or "package"
