"""Safe listing and extraction of package archives (.tar.gz/.tgz/.tar/.tar.bz2/.tar.xz,
.zip/.whl) under hard limits.

The format is chosen from the file's magic bytes, never its name. ``extract_archive``
first lists the whole archive through every check without writing a byte, then extracts
it, checking every member again against the bytes that actually come out. A path that
appears twice is accepted only when both copies are byte-identical (``repeats.py``).
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
from packguard.analyzer.archive.repeats import check_repeats_identical
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
    repeats: tuple[str, ...] = ()
    """Paths the archive carried more than once, every copy byte-identical (kept once)."""


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


def _entries(
    path: Path, limits: ExtractLimits, *, with_data: bool, filter_root: Path | None = None
) -> Iterator[RawEntry]:
    archive_format = sniff_archive_format(path)
    if archive_format == "zip":
        return guarded(iter_zip_entries(path, limits, with_data=with_data))
    compression = _TAR_COMPRESSION[archive_format]
    entries = iter_tar_entries(
        path, compression, limits, with_data=with_data, filter_root=filter_root
    )
    return guarded(entries)


def list_archive(path: Path, limits: ExtractLimits) -> list[ArchiveMember]:
    """Every member once, checked, without writing anything. Raises ``ArchiveRejected``."""
    checker = MemberChecker(limits)
    members = [
        member
        for raw in _entries(path, limits, with_data=False)
        if (member := checker.admit(raw)) is not None and not member.repeat
    ]
    if checker.repeats:
        entries = _entries(path, limits, with_data=True)
        check_repeats_identical(entries, frozenset(checker.repeats), limits)
    return members


def extract_archive(path: Path, destination: Path, limits: ExtractLimits) -> ExtractedTree:
    """Extracts into ``destination`` (an empty directory the caller owns and cleans up)."""
    list_archive(path, limits)
    checker = MemberChecker(limits)
    writer = TreeWriter(destination, limits)
    members = []
    for raw in _entries(path, limits, with_data=True, filter_root=destination):
        member = checker.admit(raw)
        if member is None:
            continue
        if member.repeat:
            writer.check_repeat(member, raw)
        else:
            members.append(writer.write(member, raw))
    return ExtractedTree(destination, tuple(members), tuple(checker.repeats))
