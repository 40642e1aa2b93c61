"""Zip archives (.zip sdists, wheels). Members are inflated by hand from the local headers.

``zipfile`` parses the central directory; member data is read and inflated here so the
declared sizes are checked against what actually comes out (a lying header is refused,
not silently truncated), and so entries that share compressed bytes are refused.
"""

from __future__ import annotations

import itertools
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from packguard.analyzer.archive.members import ExtractLimits, RawEntry, check_ratio
from packguard.analyzer.errors import (
    BadFilename,
    DeclaredSizeMismatch,
    InconsistentEntry,
    MalformedArchive,
    OverlappingEntries,
    PathTooLong,
    TooManyFiles,
    UnsupportedArchive,
)

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_FLAG_ENCRYPTED = 0x1
_FLAG_UTF8 = 0x800
_CREATED_ON_UNIX = 3
_READ_CHUNK = 1 << 16
_INFLATE_CHUNK = 1 << 20


def _open(handle: IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(handle)
    except UnicodeDecodeError:
        raise BadFilename("member name flagged UTF-8 is not valid UTF-8") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        raise MalformedArchive(f"unreadable zip ({error})") from None


def _data_starts(handle: IO[bytes], infos: list[zipfile.ZipInfo]) -> list[int]:
    """Where each member's compressed bytes begin; refuses overlapping members."""
    starts = []
    for info in infos:
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise MalformedArchive("missing local file header", info.orig_filename)
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[10:12]
        encoding = "utf-8" if info.flag_bits & _FLAG_UTF8 else "cp437"
        if handle.read(name_length) != info.orig_filename.encode(encoding):
            raise InconsistentEntry("local header names another file", info.orig_filename)
        starts.append(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    spans = sorted(
        (info.header_offset, start + info.compress_size, info.orig_filename)
        for info, start in zip(infos, starts, strict=True)
    )
    for (_, end, _), (next_offset, _, next_name) in itertools.pairwise(spans):
        if next_offset < end:
            raise OverlappingEntries("members share compressed bytes", next_name)
    return starts


def _check_method(info: zipfile.ZipInfo) -> None:
    # Packaging tools write stored or deflated members; anything else is not worth the risk.
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnsupportedArchive(f"zip compression method {info.compress_type}", info.orig_filename)


def _inflate(
    handle: IO[bytes], info: zipfile.ZipInfo, start: int, limits: ExtractLimits
) -> Iterator[bytes]:
    name = info.orig_filename
    _check_method(info)
    decompressor = (
        zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
    )
    handle.seek(start)
    remaining, consumed, produced, crc = info.compress_size, 0, 0, 0
    while remaining > 0:
        raw = handle.read(min(_READ_CHUNK, remaining))
        if not raw:
            raise MalformedArchive("member data is truncated", name)
        remaining -= len(raw)
        consumed += len(raw)
        for out in _outputs(decompressor, raw):
            produced += len(out)
            if produced > info.file_size:
                raise DeclaredSizeMismatch(
                    f"inflates past its declared {info.file_size} bytes", name
                )
            check_ratio(produced, consumed, limits, name)
            crc = zlib.crc32(out, crc)
            yield out
    if decompressor is not None and not decompressor.eof:
        raise MalformedArchive("deflate stream is truncated", name)
    if produced != info.file_size or crc != info.CRC:
        raise MalformedArchive("member size or CRC differs from the central directory", name)


def _outputs(decompressor: zlib._Decompress | None, raw: bytes) -> Iterator[bytes]:
    """Inflates in bounded steps: one compressed chunk may hold a gigabyte of zeros."""
    if decompressor is None:
        yield raw
        return
    pending = raw
    while True:
        out = decompressor.decompress(pending, _INFLATE_CHUNK)
        pending = decompressor.unconsumed_tail
        if out:
            yield out
        if decompressor.eof or (not pending and len(out) < _INFLATE_CHUNK):
            return


def _raw_entry(
    handle: IO[bytes], info: zipfile.ZipInfo, start: int, limits: ExtractLimits, with_data: bool
) -> RawEntry:
    name = info.orig_filename
    mode = info.external_attr >> 16 if info.create_system == _CREATED_ON_UNIX else 0
    kind = stat.S_IFMT(mode)
    if info.is_dir() or kind == stat.S_IFDIR:
        return RawEntry(name, "dir", 0, mode)
    if info.flag_bits & _FLAG_ENCRYPTED:
        raise UnsupportedArchive("encrypted zip member", name)
    if kind == stat.S_IFLNK:
        if info.file_size > limits.max_link_target_bytes:
            raise PathTooLong("symlink target too long", name)
        target = b"".join(_inflate(handle, info, start, limits))
        return RawEntry(
            name, "symlink", 0, mode, link_target=target.decode("utf-8", "surrogateescape")
        )
    if kind not in (0, stat.S_IFREG):
        return RawEntry(name, "special", info.file_size, mode, detail=f"special mode {mode:o}")
    _check_method(info)
    opener = (lambda: _inflate(handle, info, start, limits)) if with_data else None
    return RawEntry(
        name,
        "file",
        info.file_size,
        mode,
        compressed_size=info.compress_size,
        crc32=info.CRC,
        open_data=opener,
    )


def iter_zip_entries(path: Path, limits: ExtractLimits, *, with_data: bool) -> Iterator[RawEntry]:
    """Entries in central-directory order."""
    with path.open("rb") as handle, _open(handle) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_files:
            raise TooManyFiles(f"{len(infos)} entries, more than {limits.max_files}")
        starts = _data_starts(handle, infos)
        for info, start in zip(infos, starts, strict=True):
            yield _raw_entry(handle, info, start, limits, with_data)
