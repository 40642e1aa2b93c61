"""Which of a release's wheels the sandbox can install (pure): rank by its tags."""

from __future__ import annotations

import platform
from collections.abc import Iterable

from packaging.tags import Tag

# The analyzer image's interpreter: Debian bookworm's python3 (libs/analyzer/image).
SANDBOX_PYTHON = (3, 11)
PURE, INSTALLABLE, OTHER_PYTHON = 0, 1, 2


def sandbox_rank(tags: Iterable[Tag], machine: str | None = None) -> int | None:
    """PURE for a pure-Python wheel, INSTALLABLE for one built for the sandbox (glibc
    Linux, this CPU, CPython 3.11 or the stable ABI), OTHER_PYTHON for a glibc Linux
    wheel of this CPU for another Python; None for other systems and CPUs, which the
    sandbox could never install (their install phase would only fail)."""
    machine = machine or platform.machine()
    ranks = [_rank(tag, machine) for tag in tags]
    known = [rank for rank in ranks if rank is not None]
    return min(known) if known else None


def _rank(tag: Tag, machine: str) -> int | None:
    if tag.platform == "any":
        return PURE
    is_glibc_linux = tag.platform.startswith(("manylinux", "linux_"))
    if not is_glibc_linux or not tag.platform.endswith(f"_{machine}"):
        return None
    return INSTALLABLE if _runs_on_sandbox_python(tag) else OTHER_PYTHON


def _runs_on_sandbox_python(tag: Tag) -> bool:
    major, minor = SANDBOX_PYTHON
    if tag.interpreter in (f"py{major}", f"py{major}{minor}", f"cp{major}{minor}"):
        return tag.abi in ("none", "abi3", f"cp{major}{minor}")
    if tag.abi == "abi3" and tag.interpreter.startswith(f"cp{major}"):
        built_for = tag.interpreter.removeprefix(f"cp{major}")
        return built_for.isdigit() and int(built_for) <= minor
    return False
