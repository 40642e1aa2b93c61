"""Fixtures for the analyzer's unit tests: archive builders and the loaded rule set.

Archives are built from member dicts, the same shape the ``archive-*`` rule fixtures
(recipes) use: ``{"name", "type", "data" | "zeros", "target", "mode"}``; ``type`` is
file (default), dir, symlink, hardlink, fifo, chardev or blockdev.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import tarfile
import warnings
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from packguard.analyzer.ruleset import load_rules
from packguard.analyzer.rulespec import RuleSpec

Member = dict[str, Any]
ArchiveFactory = Callable[[str, str, Sequence[Member]], Path]

_TAR_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "chardev": tarfile.CHRTYPE,
    "blockdev": tarfile.BLKTYPE,
}
_ZIP_MODES = {
    "file": stat.S_IFREG | 0o644,
    "dir": stat.S_IFDIR | 0o755,
    "symlink": stat.S_IFLNK | 0o777,
    "fifo": stat.S_IFIFO | 0o644,
    "chardev": stat.S_IFCHR | 0o644,
    "blockdev": stat.S_IFBLK | 0o644,
}
_COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "tar": bytes,
    "tar.gz": gzip.compress,
    "tar.bz2": bz2.compress,
    "tar.xz": lzma.compress,
}


def member_bytes(member: Member) -> bytes:
    if "zeros" in member:
        return bytes(int(member["zeros"]))
    return str(member.get("data", "")).encode("utf-8")


def write_tar(path: Path, compression: str, members: Sequence[Member]) -> None:
    plain = io.BytesIO()
    # GNU format writes names as raw bytes, so undecodable names survive (surrogateescape).
    with tarfile.open(
        fileobj=plain, mode="w", format=tarfile.GNU_FORMAT, errors="surrogateescape"
    ) as tar:
        for member in members:
            kind = member.get("type", "file")
            info = tarfile.TarInfo(member["name"])
            info.type = _TAR_TYPES[kind]
            info.mode = member.get("mode", 0o755 if kind == "dir" else 0o644)
            info.linkname = member.get("target", "")
            data = member_bytes(member) if kind == "file" else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    path.write_bytes(_COMPRESSORS[compression](plain.getvalue()))


def write_zip(path: Path, members: Sequence[Member]) -> None:
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        warnings.catch_warnings(),
    ):
        # Duplicate names are something the tests build on purpose.
        warnings.simplefilter("ignore", UserWarning)
        for member in members:
            kind = member.get("type", "file")
            name = member["name"] + ("/" if kind == "dir" else "")
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            mode = _ZIP_MODES[kind] | member.get("mode", 0)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            payload = member.get("target", "").encode() if kind == "symlink" else b""
            archive.writestr(info, member_bytes(member) if kind == "file" else payload)


def build_archive(path: Path, archive_format: str, members: Sequence[Member]) -> Path:
    if archive_format == "zip":
        write_zip(path, members)
    elif archive_format == "raw":
        path.write_bytes(b"".join(member_bytes(m) for m in members))
    else:
        write_tar(path, archive_format, members)
    return path


@pytest.fixture(scope="session")
def archive_builder() -> Callable[[Path, str, Sequence[Member]], Path]:
    """``build_archive`` for tests that cannot take function-scoped fixtures (hypothesis)."""
    return build_archive


@pytest.fixture
def make_archive(tmp_path: Path) -> ArchiveFactory:
    """``make_archive(filename, format, members)`` → path of the built archive."""

    def make(filename: str, archive_format: str, members: Sequence[Member]) -> Path:
        return build_archive(tmp_path / filename, archive_format, members)

    return make


@pytest.fixture
def destination(tmp_path: Path) -> Path:
    target = tmp_path / "extracted"
    target.mkdir()
    return target


@pytest.fixture(scope="session")
def rules() -> tuple[RuleSpec, ...]:
    return load_rules()
