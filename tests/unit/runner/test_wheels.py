"""Which wheel the sandbox can install: rank by tags, never another system's."""

from __future__ import annotations

import pytest
from packaging.utils import parse_wheel_filename

from packguard.runner.registries.wheels import INSTALLABLE, OTHER_PYTHON, PURE, sandbox_rank


def _rank(filename: str, machine: str = "x86_64") -> int | None:
    return sandbox_rank(parse_wheel_filename(filename)[3], machine)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("six-1.16.0-py2.py3-none-any.whl", PURE),
        ("numpy-2.3.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", INSTALLABLE),
        ("cryptography-45.0.0-cp37-abi3-manylinux_2_28_x86_64.whl", INSTALLABLE),
        ("numpy-2.3.0-cp312-cp312-manylinux_2_17_x86_64.whl", OTHER_PYTHON),
        ("cryptography-45.0.0-cp312-abi3-manylinux_2_28_x86_64.whl", OTHER_PYTHON),
        ("numpy-2.3.0-cp312-cp312-macosx_14_0_arm64.whl", None),
        ("numpy-2.3.0-cp311-cp311-win_amd64.whl", None),
        ("numpy-2.3.0-cp311-cp311-musllinux_1_2_x86_64.whl", None),
        ("numpy-2.3.0-cp311-cp311-manylinux_2_17_aarch64.whl", None),
    ],
)
def test_sandbox_rank_prefers_pure_then_installable_and_drops_other_systems(
    filename: str, expected: int | None
) -> None:
    assert _rank(filename) == expected


def test_sandbox_rank_follows_the_machine() -> None:
    assert _rank("numpy-2.3.0-cp311-cp311-manylinux_2_17_aarch64.whl", "aarch64") == INSTALLABLE
