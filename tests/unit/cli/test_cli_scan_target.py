"""``packguard scan TARGET``: purl or archive, the ecosystem it implies, the package it names."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from packguard.cli.scan_target import LocalTarget, resolve_target
from packguard.common.errors import InvalidInput, InvalidPurl, UnsupportedEcosystem
from packguard.common.purl import Ecosystem, PackageRef

PYPI, NPM = Ecosystem.PYPI, Ecosystem.NPM


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
