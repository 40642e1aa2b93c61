"""What an artifact's file name says: the ecosystem it implies, the package it names."""

from __future__ import annotations

import pytest

from packguard.common.filenames import detect_ecosystem, package_from_filename
from packguard.common.purl import Ecosystem, PackageRef

PYPI, NPM = Ecosystem.PYPI, Ecosystem.NPM


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("six-1.16.0.tar.gz", PYPI),
        ("SIX-1.16.0.TAR.GZ", PYPI),
        ("six-1.16.0-py2.py3-none-any.whl", PYPI),
        ("six-1.16.0.zip", PYPI),
        ("left-pad-1.3.0.tgz", NPM),
        ("six-1.16.0.tar.bz2", None),
        ("archive.gz", None),
        ("README", None),
    ],
)
def test_detect_ecosystem_by_suffix_returns_expected(
    filename: str, expected: Ecosystem | None
) -> None:
    assert detect_ecosystem(filename) == expected


@pytest.mark.parametrize(
    ("filename", "ecosystem", "name", "version"),
    [
        ("Six_Stuff-1.16.0.tar.gz", PYPI, "six-stuff", "1.16.0"),
        ("six-1.16.0-py2.py3-none-any.whl", PYPI, "six", "1.16.0"),
        ("six-1.16.0.zip", PYPI, "six", "1.16.0"),
        ("left-pad-1.3.0.tgz", NPM, "left-pad", "1.3.0"),
        ("core-7.0.0-beta.1.tgz", NPM, "core", "7.0.0-beta.1"),
        ("download.tgz", NPM, "download", "0"),
        ("not a wheel.whl", PYPI, "not a wheel", "0"),
        ("blob", PYPI, "blob", "0"),
    ],
)
def test_package_from_filename_conventional_or_stem(
    filename: str, ecosystem: Ecosystem, name: str, version: str
) -> None:
    assert package_from_filename(filename, ecosystem) == PackageRef(ecosystem, name, version)
