"""Zip-specific hostility: lying headers, shared data, flagged names, methods."""

from __future__ import annotations

import stat
import struct
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from packguard.analyzer.archive import ExtractLimits, extract_archive
from packguard.analyzer.errors import (
    ArchiveRejected,
    BadFilename,
    CompressionRatioExceeded,
    DeclaredSizeMismatch,
    InconsistentEntry,
    MalformedArchive,
    OverlappingEntries,
    TooManyFiles,
    UnsupportedArchive,
)

ArchiveFactory = Callable[[str, str, Sequence[dict[str, Any]]], Path]
CENTRAL = b"PK\x01\x02"
LOCAL = b"PK\x03\x04"


def offsets(data: bytes | bytearray, signature: bytes) -> list[int]:
    found, start = [], 0
    while (index := data.find(signature, start)) != -1:
        found.append(index)
        start = index + 1
    return found


def patch(data: bytearray, offset: int, fmt: str, value: int) -> None:
    data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value)


def zip_of(path: Path, entries: Sequence[tuple[str, bytes]], **options: Any) -> bytearray:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, **options) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return bytearray(path.read_bytes())


def all_files(root: Path) -> list[Path]:
    return list(root.rglob("*"))


def test_extract_wheel_like_zip_keeps_content_and_exec_bit(
    make_archive: ArchiveFactory, destination: Path
) -> None:
    members: list[dict[str, Any]] = [
        {"name": "pkg/__init__.py", "data": "VERSION = '1'\n"},
        {"name": "pkg-1.0.data/scripts/tool", "data": "#!python\n", "mode": 0o755},
        {"name": "pkg-1.0.dist-info", "type": "dir"},
    ]
    artifact = make_archive("pkg-1.0-py3-none-any.whl", "zip", members)
    tree = extract_archive(artifact, destination, ExtractLimits())
    assert {m.path for m in tree.members} == {
        "pkg/__init__.py",
        "pkg-1.0.data/scripts/tool",
        "pkg-1.0.dist-info",
    }
    assert (destination / "pkg/__init__.py").read_text() == "VERSION = '1'\n"
    assert (destination / "pkg-1.0.data/scripts/tool").stat().st_mode & 0o111


def test_extract_zip_bomb_honest_header_rejected_by_ratio(
    tmp_path: Path, destination: Path
) -> None:
    zip_of(tmp_path / "bomb.zip", [("pkg/zeros", bytes(32 << 20))])
    with pytest.raises(CompressionRatioExceeded) as raised:
        extract_archive(tmp_path / "bomb.zip", destination, ExtractLimits())
    assert raised.value.member == "pkg/zeros"


def test_extract_zip_bomb_lying_header_rejected_while_inflating(
    tmp_path: Path, destination: Path
) -> None:
    # Declares 100 bytes in both headers but inflates to 32 MiB: zipfile would quietly
    # truncate; the analyzer must notice the lie.
    artifact = tmp_path / "liar.zip"
    data = zip_of(artifact, [("pkg/zeros", bytes(32 << 20))])
    (central,) = offsets(data, CENTRAL)
    patch(data, central + 24, "<I", 100)
    patch(data, 22, "<I", 100)
    artifact.write_bytes(data)
    with pytest.raises(DeclaredSizeMismatch) as raised:
        extract_archive(artifact, destination, ExtractLimits())
    assert raised.value.member == "pkg/zeros"
    assert all(p.stat().st_size <= 100 for p in all_files(destination) if p.is_file())


def test_extract_zip_entries_sharing_data_rejected(tmp_path: Path, destination: Path) -> None:
    artifact = tmp_path / "overlap.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zip_of(artifact, [("a", b"x" * 100), ("a", b"y" * 100)])
    second = offsets(data, CENTRAL)[1]
    patch(data, second + 42, "<I", 0)
    artifact.write_bytes(data)
    with pytest.raises(OverlappingEntries):
        extract_archive(artifact, destination, ExtractLimits())


def test_extract_zip_local_name_differs_from_central_rejected(
    tmp_path: Path, destination: Path
) -> None:
    artifact = tmp_path / "twonames.zip"
    data = zip_of(artifact, [("pkg/good.py", b"x = 1\n")])
    local_name = 30
    data[local_name : local_name + len("pkg/good.py")] = b"../evil.py\x00"
    artifact.write_bytes(data)
    with pytest.raises(InconsistentEntry):
        extract_archive(artifact, destination, ExtractLimits())


def test_extract_zip_flagged_utf8_with_invalid_bytes_rejected(
    tmp_path: Path, destination: Path
) -> None:
    artifact = tmp_path / "badname.zip"
    data = zip_of(artifact, [("pkg/xx.py", b"x = 1\n")])
    for start, flags_at in ((offsets(data, LOCAL)[0], 6), (offsets(data, CENTRAL)[0], 8)):
        flags = struct.unpack_from("<H", data, start + flags_at)[0]
        patch(data, start + flags_at, "<H", flags | 0x800)
    central = offsets(data, CENTRAL)[0]
    name_at = central + 46 + len("pkg/")
    data[name_at : name_at + 2] = b"\xff\xfe"
    artifact.write_bytes(data)
    with pytest.raises(BadFilename):
        extract_archive(artifact, destination, ExtractLimits())


def test_extract_zip_unsupported_method_rejected(tmp_path: Path, destination: Path) -> None:
    artifact = tmp_path / "bz.zip"
    with zipfile.ZipFile(artifact, "w", compression=zipfile.ZIP_BZIP2) as archive:
        archive.writestr("pkg/a.py", b"x = 1\n")
    with pytest.raises(UnsupportedArchive):
        extract_archive(artifact, destination, ExtractLimits())


def test_extract_zip_encrypted_member_rejected(tmp_path: Path, destination: Path) -> None:
    artifact = tmp_path / "enc.zip"
    data = zip_of(artifact, [("pkg/a.py", b"x = 1\n")])
    central = offsets(data, CENTRAL)[0]
    patch(data, central + 8, "<H", struct.unpack_from("<H", data, central + 8)[0] | 0x1)
    artifact.write_bytes(data)
    with pytest.raises(UnsupportedArchive):
        extract_archive(artifact, destination, ExtractLimits())


def test_extract_zip_count_checked_from_central_directory(
    tmp_path: Path, destination: Path
) -> None:
    artifact = tmp_path / "many.zip"
    zip_of(artifact, [(f"f/{i}", b"") for i in range(101)])
    with pytest.raises(TooManyFiles):
        extract_archive(artifact, destination, ExtractLimits(max_files=100))
    assert all_files(destination) == []


@pytest.mark.parametrize("cut", [10, 60, 200])
def test_extract_truncated_zip_rejected_as_malformed(
    tmp_path: Path, destination: Path, cut: int
) -> None:
    artifact = tmp_path / "cut.zip"
    data = zip_of(artifact, [(f"pkg/{i}.py", b"value = %d\n" % i * 50) for i in range(5)])
    artifact.write_bytes(bytes(data[:-cut]))
    with pytest.raises(ArchiveRejected) as raised:
        extract_archive(artifact, destination, ExtractLimits())
    assert isinstance(raised.value, MalformedArchive | UnsupportedArchive)


def test_extract_zip_corrupt_crc_rejected(tmp_path: Path, destination: Path) -> None:
    artifact = tmp_path / "crc.zip"
    data = zip_of(artifact, [("pkg/a.py", b"x = 1\n")], compresslevel=0)
    (central,) = offsets(data, CENTRAL)
    patch(data, central + 16, "<I", 0xDEADBEEF)
    artifact.write_bytes(data)
    with pytest.raises(MalformedArchive):
        extract_archive(artifact, destination, ExtractLimits())


def test_extract_zip_symlink_inside_tree_recorded_not_created(
    make_archive: ArchiveFactory, destination: Path
) -> None:
    members = [
        {"name": "pkg/real.txt", "data": "x"},
        {"name": "pkg/alias.txt", "type": "symlink", "target": "real.txt"},
    ]
    artifact = make_archive("links.zip", "zip", members)
    tree = extract_archive(artifact, destination, ExtractLimits())
    link = next(m for m in tree.members if m.kind == "symlink")
    assert link.link_target == "pkg/real.txt"
    assert not (destination / "pkg/alias.txt").is_symlink()
    assert not (destination / "pkg/alias.txt").exists()
    assert stat.S_ISREG((destination / "pkg/real.txt").lstat().st_mode)
