"""``packguard scan TARGET``: purl or archive, the ecosystem it implies, the package it names."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from packguard.cli.scan_target import (
    LocalTarget,
    detect_ecosystem,
    package_from_filename,
    resolve_target,
)
from packguard.common.errors import InvalidInput, InvalidPurl, UnsupportedEcosystem
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


def test_resolve_target_purl_returns_package() -> None:
    assert resolve_target("pkg:npm/%40babel/core@7.0.0", None) == PackageRef(
        NPM, "@babel/core", "7.0.0"
    )


def test_resolve_target_archive_returns_local_target() -> None:
    target = resolve_target("dist/six-1.16.0.tar.gz", None)

    assert target == LocalTarget(
        PurePath("dist/six-1.16.0.tar.gz"), PackageRef(PYPI, "six", "1.16.0")
    )


def test_resolve_target_ecosystem_option_overrides_detection() -> None:
    target = resolve_target("payload.bin", NPM)

    assert isinstance(target, LocalTarget)
    assert target.package == PackageRef(NPM, "payload.bin", "0")


@pytest.mark.parametrize(
    ("target", "ecosystem", "error"),
    [
        ("payload.bin", None, UnsupportedEcosystem),
        ("pkg:pypi/six", None, InvalidInput),
        ("pkg:cargo/serde@1.0.0", None, UnsupportedEcosystem),
        ("pkg:pypi/six@1.16.0", NPM, InvalidInput),
        ("pkg:pypi/../etc@1.0", None, InvalidPurl),
    ],
)
def test_resolve_target_unusable_raises(
    target: str, ecosystem: Ecosystem | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        resolve_target(target, ecosystem)
