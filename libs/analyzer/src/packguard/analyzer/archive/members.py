"""Format-independent member checks: limits, path rules, links, and the writer.

Both readers (tar, zip) turn their entries into ``RawEntry`` values; ``MemberChecker``
applies every rule that does not depend on the format, so tar and zip cannot drift apart.
"""

from __future__ import annotations

import lzma
import os
import re
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from packguard.analyzer.errors import (
    AbsolutePath,
    ArchiveTooLarge,
    BadFilename,
    CompressionRatioExceeded,
    DuplicateEntry,
    LinkEscape,
    MalformedArchive,
    PathTooLong,
    PathTraversal,
    SpecialFile,
    TooManyFiles,
    UnsafeEntry,
)

T = TypeVar("T")
MemberKind = Literal["file", "dir", "symlink", "hardlink"]
RawKind = Literal["file", "dir", "symlink", "hardlink", "special"]

# Control characters and backslashes have no place in a package path; backslashes
# would become separators for any Windows tool that later reads the same tree.
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
_DRIVE_PREFIX = re.compile(r"^[A-Za-z]:")
_NAME_MAX_BYTES = 255
_COPY_CHUNK = 1 << 20
_PERMISSION_BITS = 0o7777


@dataclass(frozen=True)
class ExtractLimits:
    """Hard limits for one artifact. Defaults suit a sandbox tmpfs of ~1.5 GiB."""

    max_total_bytes: int = 1 << 30
    max_file_bytes: int = 256 << 20
    max_files: int = 50_000
    max_ratio: float = 200.0
    # Below this many output bytes the ratio is not judged: tiny files compress absurdly.
    ratio_floor_bytes: int = 1 << 20
    max_depth: int = 64
    max_path_bytes: int = 1024
    max_link_target_bytes: int = 1024


@dataclass(frozen=True)
class RawEntry:
    """One archive entry as its reader saw it, before any check."""

    name: str
    kind: RawKind
    declared_size: int
    mode: int
    link_target: str | None = None
    detail: str = ""
    compressed_size: int | None = None
    """Known up front for zip members: lets the ratio be judged before inflating."""
    crc32: int | None = None
    """Zip members only: lets a repeated path be compared before inflating."""
    # Yields the member's bytes; only for files, only during extraction.
    open_data: Callable[[], Iterator[bytes]] | None = None


@dataclass(frozen=True)
class ArchiveMember:
    """One accepted member: a normalised relative POSIX path and what it is."""

    path: str
    kind: MemberKind
    size: int
    mode: int
    link_target: str | None = None
    repeat: bool = False
    """A second entry for a file already seen, same size and executable bit: checked to be
    byte-identical, never written or listed again."""

    @property
    def is_executable(self) -> bool:
        return self.kind in ("file", "hardlink") and bool(self.mode & 0o111)


# What archive parsers raise on hostile bytes (zipfile and tarfile are not exhaustive in
# what they let escape). Our own ArchiveRejected errors are none of these.
PARSER_ERRORS = (
    IndexError,
    KeyError,
    ValueError,
    OverflowError,
    EOFError,
    OSError,
    struct.error,
    zlib.error,
    lzma.LZMAError,
    tarfile.TarError,
    zipfile.BadZipFile,
)


def guarded(items: Iterator[T]) -> Iterator[T]:
    """``items``, with parser exceptions turned into ``MalformedArchive``."""
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except PARSER_ERRORS as error:
            raise MalformedArchive(
                f"unreadable archive ({type(error).__name__}: {error})"
            ) from None
        yield item


def check_ratio(produced: int, consumed: int, limits: ExtractLimits, name: str | None) -> None:
    if produced > limits.ratio_floor_bytes and produced > limits.max_ratio * max(consumed, 1):
        raise CompressionRatioExceeded(
            f"expands {produced} bytes from {consumed} compressed (limit {limits.max_ratio}:1)",
            name,
        )


def normalize_member_path(raw: str, limits: ExtractLimits) -> str:
    """The member's path relative to the tree root, or raise. ``""`` is the root itself."""
    try:
        encoded = raw.encode("utf-8")
    except UnicodeEncodeError:
        raise BadFilename("name is not valid UTF-8", raw) from None
    if _FORBIDDEN_CHARS.search(raw):
        raise BadFilename("name contains control characters or backslashes", raw)
    if raw.startswith("/") or _DRIVE_PREFIX.match(raw):
        raise AbsolutePath("absolute member path", raw)
    segments = [segment for segment in raw.split("/") if segment not in ("", ".")]
    if ".." in segments:
        raise PathTraversal("member path contains '..'", raw)
    if len(segments) > limits.max_depth or len(encoded) > limits.max_path_bytes:
        raise PathTooLong(f"path deeper than {limits.max_depth} or longer than limit", raw)
    if any(len(segment.encode("utf-8")) > _NAME_MAX_BYTES for segment in segments):
        raise PathTooLong("path segment longer than 255 bytes", raw)
    return "/".join(segments)


def resolve_symlink_target(path: str, target: str, limits: ExtractLimits) -> str:
    """The tree-relative path a symlink points at, judged lexically from its parent."""
    if not target:
        raise MalformedArchive("empty symlink target", path)
    if len(target.encode("utf-8", "surrogateescape")) > limits.max_link_target_bytes:
        raise PathTooLong("symlink target too long", path)
    try:
        target.encode("utf-8")
    except UnicodeEncodeError:
        raise BadFilename("symlink target is not valid UTF-8", path) from None
    if _FORBIDDEN_CHARS.search(target):
        raise BadFilename("symlink target contains control characters", path)
    if target.startswith("/") or _DRIVE_PREFIX.match(target):
        raise LinkEscape(f"symlink to absolute path {target!r}", path)
    parts = path.split("/")[:-1]
    for segment in target.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                raise LinkEscape(f"symlink target {target!r} leaves the tree", path)
            parts.pop()
        else:
            parts.append(segment)
    return "/".join(parts)


@dataclass
class MemberChecker:
    """Admits entries one by one, keeping the state the cross-member rules need."""

    limits: ExtractLimits
    count: int = 0
    declared_total: int = 0
    kinds: dict[str, MemberKind] = field(default_factory=dict)
    repeats: list[str] = field(default_factory=list)
    """Paths of regular files the archive carries more than once (first seen first)."""
    _shapes: dict[str, tuple[int, bool, int | None]] = field(default_factory=dict)

    def admit(self, raw: RawEntry) -> ArchiveMember | None:
        """The accepted member, ``None`` for the root directory entry, or raise."""
        self.count += 1
        if self.count > self.limits.max_files:
            raise TooManyFiles(f"more than {self.limits.max_files} entries")
        path = normalize_member_path(raw.name, self.limits)
        if raw.kind == "special":
            raise SpecialFile(raw.detail or "device, fifo or other special file", raw.name)
        if not path:
            if raw.kind != "dir":
                raise MalformedArchive("non-directory entry with an empty path", raw.name)
            return None
        self._check_parents(path, raw.name)
        if raw.kind == "dir":
            return self._admit_dir(path, raw)
        if path in self.kinds:
            self._admit_repeat(path, raw)
            size = self._admit_size(raw)
            return ArchiveMember(path, "file", size, raw.mode & _PERMISSION_BITS, repeat=True)
        size = self._admit_size(raw)
        target = self._admit_link(path, raw)
        self.kinds[path] = raw.kind
        if raw.kind == "file":
            self._shapes[path] = _shape(raw)
        return ArchiveMember(path, raw.kind, size, raw.mode & _PERMISSION_BITS, target)

    def _admit_repeat(self, path: str, raw: RawEntry) -> None:
        """Some sdists carry a file twice (a license added by two build steps): harmless
        when every copy is the same bytes, which the caller verifies. Any other repeat is
        refused: the installer would keep one copy and a reviewer might read the other."""
        first = self._shapes.get(path)
        if raw.kind != "file" or first is None:
            raise DuplicateEntry("path appears twice in the archive", raw.name)
        if first != _shape(raw):
            raise DuplicateEntry(
                "path appears twice with a different size, executable bit or CRC", raw.name
            )
        if path not in self.repeats:
            self.repeats.append(path)

    def _check_parents(self, path: str, name: str) -> None:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            kind = self.kinds.get(parent)
            if kind == "symlink":
                raise LinkEscape("path passes through a symlink member", name)
            if kind is not None and kind != "dir":
                raise DuplicateEntry("path passes through a file member", name)
            if kind is None:
                self.kinds[parent] = "dir"

    def _admit_dir(self, path: str, raw: RawEntry) -> ArchiveMember:
        existing = self.kinds.get(path)
        if existing is not None and existing != "dir":
            raise DuplicateEntry("directory has the same path as a file", raw.name)
        self.kinds[path] = "dir"
        return ArchiveMember(path, "dir", 0, raw.mode & _PERMISSION_BITS)

    def _admit_size(self, raw: RawEntry) -> int:
        if raw.kind != "file":
            return 0
        if raw.declared_size < 0:
            raise MalformedArchive("negative member size", raw.name)
        if raw.declared_size > self.limits.max_file_bytes:
            raise ArchiveTooLarge(f"member declares {raw.declared_size} bytes", raw.name)
        if raw.compressed_size is not None:
            check_ratio(raw.declared_size, raw.compressed_size, self.limits, raw.name)
        self.declared_total += raw.declared_size
        if self.declared_total > self.limits.max_total_bytes:
            raise ArchiveTooLarge(f"members declare more than {self.limits.max_total_bytes} bytes")
        return raw.declared_size

    def _admit_link(self, path: str, raw: RawEntry) -> str | None:
        if raw.kind == "symlink":
            return resolve_symlink_target(path, raw.link_target or "", self.limits)
        if raw.kind == "hardlink":
            try:
                target = normalize_member_path(raw.link_target or "", self.limits)
            except UnsafeEntry as error:
                raise LinkEscape(f"hard link target is unsafe ({error.code})", raw.name) from None
            if self.kinds.get(target) not in ("file", "hardlink"):
                raise LinkEscape("hard link to something other than an earlier file", raw.name)
            return target
        return None


def _shape(raw: RawEntry) -> tuple[int, bool, int | None]:
    """What two copies of one file must share before their bytes are compared."""
    return raw.declared_size, bool(raw.mode & 0o111), raw.crc32


@dataclass
class TreeWriter:
    """Writes accepted members under ``root`` and counts the bytes actually written.

    Symlinks are recorded, never created, so no later write can follow one; hard links
    become copies of their (earlier, regular) target.
    """

    root: Path
    limits: ExtractLimits
    written: int = 0
    _real_root: str = field(init=False)

    def __post_init__(self) -> None:
        self._real_root = os.path.realpath(self.root)

    def write(self, member: ArchiveMember, raw: RawEntry) -> ArchiveMember:
        target = self._target(member.path)
        if member.kind == "dir":
            target.mkdir(mode=0o755, parents=True, exist_ok=True)
            return member
        if member.kind == "symlink":
            return member
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        if member.kind == "hardlink":
            chunks = self._copy_of(member.link_target or "")
        elif raw.open_data is not None:
            chunks = guarded(raw.open_data())
        else:
            raise MalformedArchive("file entry without data", member.path)
        size = self._write_file(target, member, chunks)
        return ArchiveMember(member.path, member.kind, size, member.mode, member.link_target)

    def check_repeat(self, member: ArchiveMember, raw: RawEntry) -> None:
        """A repeated entry's bytes must equal the copy already written; nothing is written."""
        if raw.open_data is None:
            raise MalformedArchive("file entry without data", member.path)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(self._target(member.path), flags), "rb") as first:
            for chunk in guarded(raw.open_data()):
                self._count(len(chunk), member.path)
                if first.read(len(chunk)) != chunk:
                    raise DuplicateEntry("path appears twice with different content", member.path)
            if first.read(1):
                raise DuplicateEntry("path appears twice with different content", member.path)

    def _target(self, path: str) -> Path:
        target = self.root / path
        # Belt and braces: the checker already refused anything that could leave the root.
        real = os.path.realpath(target)
        if os.path.commonpath([real, self._real_root]) != self._real_root:
            raise LinkEscape("member resolves outside the extraction root", path)
        return target

    def _copy_of(self, path: str) -> Iterator[bytes]:
        with (self.root / path).open("rb") as source:
            while chunk := source.read(_COPY_CHUNK):
                yield chunk

    def _write_file(self, target: Path, member: ArchiveMember, chunks: Iterator[bytes]) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        # setuid/setgid/sticky bits are dropped: only the executable bit is meaningful.
        mode = 0o755 if member.mode & 0o111 else 0o644
        size = 0
        fd = os.open(target, flags, mode)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                size += len(chunk)
                if size > self.limits.max_file_bytes:
                    raise ArchiveTooLarge(
                        f"member exceeds {self.limits.max_file_bytes} bytes", member.path
                    )
                self._count(len(chunk), member.path)
                handle.write(chunk)
        return size

    def _count(self, size: int, path: str) -> None:
        """Bytes that came out of the archive, written or compared: the total is capped."""
        self.written += size
        if self.written > self.limits.max_total_bytes:
            raise ArchiveTooLarge(f"extraction exceeds {self.limits.max_total_bytes} bytes", path)
