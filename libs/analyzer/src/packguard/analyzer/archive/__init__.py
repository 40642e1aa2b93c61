"""Safe listing and extraction of package archives (.tar.gz/.tgz/.tar/.tar.bz2/.tar.xz,
.zip/.whl) under hard limits.

The format is chosen from the file's magic bytes, never its name. ``extract_archive``
first lists the whole archive through every check without writing a byte, then extracts
it, checking every member again against the bytes that actually come out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packguard.analyzer.archive.members import (
    ArchiveMember,
    ExtractLimits,
    MemberChecker,
    RawEntry,
    TreeWriter,
    guarded,
)
from packguard.analyzer.archive.tar import Compression, iter_tar_entries
from packguard.analyzer.archive.zip import iter_zip_entries
from packguard.analyzer.errors import UnsupportedArchive

__all__ = [
    "ArchiveMember",
    "ExtractLimits",
    "ExtractedTree",
    "extract_archive",
    "list_archive",
    "sniff_archive_format",
]

_TAR_MAGIC_OFFSET = 257
_MAGICS = (
    (b"\x1f\x8b", "tar.gz"),
    (b"BZh", "tar.bz2"),
    (b"\xfd7zXZ\x00", "tar.xz"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
)
_TAR_COMPRESSION: dict[str, Compression] = {
    "tar": "none",
    "tar.gz": "gzip",
    "tar.bz2": "bzip2",
    "tar.xz": "xz",
}


@dataclass(frozen=True)
class ExtractedTree:
    root: Path
    members: tuple[ArchiveMember, ...]


def sniff_archive_format(path: Path) -> str:
    """``tar``, ``tar.gz``, ``tar.bz2``, ``tar.xz`` or ``zip``; raises otherwise."""
    with path.open("rb") as handle:
        head = handle.read(_TAR_MAGIC_OFFSET + 8)
    for magic, name in _MAGICS:
        if head.startswith(magic):
            return name
    if head[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + 5] == b"ustar":
        return "tar"
    raise UnsupportedArchive(f"{path.name} is not a tar or zip archive")


def _entries(path: Path, limits: ExtractLimits, filter_root: Path | None) -> Iterator[RawEntry]:
    archive_format = sniff_archive_format(path)
    if archive_format == "zip":
        return guarded(iter_zip_entries(path, limits, with_data=filter_root is not None))
    compression = _TAR_COMPRESSION[archive_format]
    return guarded(iter_tar_entries(path, compression, limits, filter_root=filter_root))


def list_archive(path: Path, limits: ExtractLimits) -> list[ArchiveMember]:
    """Every member, checked, without writing anything. Raises ``ArchiveRejected``."""
    checker = MemberChecker(limits)
    return [m for raw in _entries(path, limits, None) if (m := checker.admit(raw)) is not None]


def extract_archive(path: Path, destination: Path, limits: ExtractLimits) -> ExtractedTree:
    """Extracts into ``destination`` (an empty directory the caller owns and cleans up)."""
    list_archive(path, limits)
    checker = MemberChecker(limits)
    writer = TreeWriter(destination, limits)
    members = []
    for raw in _entries(path, limits, destination):
        member = checker.admit(raw)
        if member is not None:
            members.append(writer.write(member, raw))
    return ExtractedTree(destination, tuple(members))
