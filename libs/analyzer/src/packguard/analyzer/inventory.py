"""The inventory: every member of the extracted tree with its hash and coarse type."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from packguard.analyzer.archive import ArchiveMember, ExtractedTree
from packguard.analyzer.filetypes import HEAD_BYTES, sniff_file_type
from packguard.common.report import InventoryEntry

_CHUNK = 1 << 20


@dataclass(frozen=True)
class TreeFile:
    """A regular file of the extracted tree, as the engines read it."""

    path: str
    """As reported (prefixed when several artifacts share a report)."""
    member_path: str
    """Relative to its own archive's root; what rule path globs match."""
    disk_path: Path
    file_type: str
    size: int
    sha256: str | None = None
    """Of the content: files with the same one (an sdist and its wheel share most) are
    read once per engine."""

    @property
    def content_key(self) -> str:
        return self.sha256 or f"path:{self.disk_path}"


@dataclass(frozen=True)
class Inventory:
    entries: tuple[InventoryEntry, ...]
    files: tuple[TreeFile, ...]


def is_hidden(path: str) -> bool:
    return any(part.startswith(".") for part in path.split("/"))


def hash_file(path: Path) -> tuple[str, int, bytes]:
    """sha256 hex digest, size and the first ``HEAD_BYTES`` of a file, in one read."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        chunk = head
        while chunk:
            digest.update(chunk)
            size += len(chunk)
            chunk = handle.read(_CHUNK)
    return digest.hexdigest(), size, head


def build_inventory(tree: ExtractedTree, prefix: str = "") -> Inventory:
    """Entries sorted by path; ``prefix`` namespaces paths when several artifacts share
    one report."""
    entries = []
    files = []
    for member in sorted(tree.members, key=lambda m: m.path):
        path = f"{prefix}{member.path}"
        if member.kind in ("file", "hardlink"):
            disk_path = tree.root / member.path
            sha256, size, head = hash_file(disk_path)
            file_type = sniff_file_type(member.path, head)
            files.append(TreeFile(path, member.path, disk_path, file_type, size, sha256))
            entries.append(_entry(member, path, size, sha256, file_type))
        else:
            entries.append(_entry(member, path, 0, None, None))
    return Inventory(tuple(entries), tuple(files))


def _entry(
    member: ArchiveMember, path: str, size: int, sha256: str | None, file_type: str | None
) -> InventoryEntry:
    return InventoryEntry(
        path=path,
        size_bytes=size,
        sha256=sha256,
        kind=member.kind,
        file_type=file_type,
        is_executable=member.is_executable,
        is_hidden=is_hidden(member.path),
    )
