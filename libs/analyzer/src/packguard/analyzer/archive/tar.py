"""Tar archives (plain, gzip, bzip2, xz), read strictly as a stream under byte limits.

The decompressed stream is bounded twice: against the compressed bytes consumed (ratio)
and in absolute size, so a bomb stops while it inflates, not after.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal, Protocol, cast

from packguard.analyzer.archive.members import ExtractLimits, RawEntry, check_ratio
from packguard.analyzer.errors import ArchiveTooLarge, MalformedArchive, UnsafeEntry

Compression = Literal["none", "gzip", "bzip2", "xz"]

# Headers, padding and pax records are not member bytes but still flow through the stream.
_STREAM_BYTES_PER_ENTRY = 4096
_CHUNK = 1 << 16


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CountingReader(io.RawIOBase):
    """The compressed side: counts what the decompressor has consumed."""

    def __init__(self, handle: BinaryIO) -> None:
        super().__init__()
        self._handle = handle
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.consumed += len(data)
        return data


class _BoundedStream(io.RawIOBase):
    """The decompressed side as tarfile sees it, checked on every read."""

    def __init__(self, raw: _CountingReader, inner: _Readable, limits: ExtractLimits) -> None:
        super().__init__()
        self._raw = raw
        self._inner = inner
        self._limits = limits
        self._cap = limits.max_total_bytes + (limits.max_files + 1) * _STREAM_BYTES_PER_ENTRY
        self.produced = 0
        self.current: str | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        # tarfile asks for one record at a time; never let it request "everything".
        data = self._inner.read(size if 0 <= size <= _CHUNK else _CHUNK)
        self.produced += len(data)
        if self.produced > self._cap:
            raise ArchiveTooLarge("tar stream exceeds the extraction limit", self.current)
        check_ratio(self.produced, self._raw.consumed, self._limits, self.current)
        return data


def _decompressor(compression: Compression, raw: _CountingReader) -> _Readable:
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    if compression == "xz":
        # typeshed wants IO[bytes] here; LZMAFile only ever calls read().
        return lzma.LZMAFile(cast("BinaryIO", raw), mode="rb")
    return raw


def _data(tar: tarfile.TarFile, info: tarfile.TarInfo) -> Iterator[bytes]:
    handle = tar.extractfile(info)
    if handle is None:
        raise MalformedArchive("file member has no data", info.name)
    while chunk := handle.read(_CHUNK):
        yield chunk


def _raw_entry(tar: tarfile.TarFile, info: tarfile.TarInfo, with_data: bool) -> RawEntry:
    if info.sparse is not None:
        return RawEntry(info.name, "special", info.size, info.mode, detail="sparse file")
    if info.isreg():
        opener = (lambda: _data(tar, info)) if with_data else None
        return RawEntry(info.name, "file", info.size, info.mode, open_data=opener)
    if info.isdir():
        return RawEntry(info.name, "dir", 0, info.mode)
    if info.issym():
        return RawEntry(info.name, "symlink", 0, info.mode, link_target=info.linkname)
    if info.islnk():
        return RawEntry(info.name, "hardlink", 0, info.mode, link_target=info.linkname)
    detail = f"special tar member (type {info.type!r})"
    return RawEntry(info.name, "special", info.size, info.mode, detail=detail)


def _second_layer(info: tarfile.TarInfo, root: Path) -> None:
    """tarfile's own ``data_filter`` behind ``MemberChecker``, where the stdlib has it
    (3.11.4+; Debian bookworm ships 3.11.2, so the image may run without it)."""
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is None:
        return
    try:
        data_filter(info, str(root))
    except tarfile.TarError as error:  # FilterError and its subclasses
        raise UnsafeEntry(f"refused by tarfile data filter: {error}", info.name) from None


def iter_tar_entries(
    path: Path,
    compression: Compression,
    limits: ExtractLimits,
    *,
    with_data: bool,
    filter_root: Path | None = None,
) -> Iterator[RawEntry]:
    """Entries in archive order, with readable data if ``with_data``. With ``filter_root``
    (extraction), tarfile's own ``data_filter`` runs as a second layer behind
    ``MemberChecker``."""
    with path.open("rb") as handle:
        raw = _CountingReader(handle)
        stream = _BoundedStream(raw, _decompressor(compression, raw), limits)
        with tarfile.open(
            fileobj=stream,
            mode="r|",
            encoding="utf-8",
            errors="surrogateescape",
        ) as tar:
            for info in tar:
                stream.current = info.name
                if filter_root is not None:
                    _second_layer(info, filter_root)
                yield _raw_entry(tar, info, with_data)
