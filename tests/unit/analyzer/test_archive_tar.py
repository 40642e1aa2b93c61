"""Extraction of tar archives (and the rules both formats share) on built fixtures."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from packguard.analyzer.archive import ExtractLimits, extract_archive, list_archive
from packguard.analyzer.errors import (
    AbsolutePath,
    ArchiveRejected,
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
    UnsupportedArchive,
)

ArchiveFactory = Callable[[str, str, Sequence[dict[str, Any]]], Path]
SMALL = ExtractLimits(
    max_total_bytes=64 << 10,
    max_file_bytes=32 << 10,
    max_files=32,
    max_ratio=200,
    # Tar pads to 10 KiB records of zeros: judge ratios only past that.
    ratio_floor_bytes=16 << 10,
    max_depth=8,
    max_path_bytes=128,
)
PACKAGE: list[dict[str, Any]] = [
    {"name": "./", "type": "dir"},
    {"name": "./pkg-1.0/setup.py", "data": "print('setup')\n"},
    {"name": "./pkg-1.0/bin/tool", "data": "#!/bin/sh\n", "mode": 0o4755},
    {"name": "./pkg-1.0/docs/link", "type": "symlink", "target": "../setup.py"},
    {"name": "./pkg-1.0/copy.py", "type": "hardlink", "target": "./pkg-1.0/setup.py"},
]


def noise(size: int, seed: int = 0) -> str:
    """Text that barely compresses, so size limits trip before ratio limits."""
    blocks = (hashlib.sha256(b"%d:%d" % (seed, i)).hexdigest() for i in range(size // 64 + 1))
    return "".join(blocks)[:size]


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("archive_format", ["tar", "tar.gz", "tar.bz2", "tar.xz"])
def test_extract_tar_formats_clean_package_yields_members(
    make_archive: ArchiveFactory, destination: Path, archive_format: str
) -> None:
    artifact = make_archive(f"pkg.{archive_format}", archive_format, PACKAGE)
    tree = extract_archive(artifact, destination, ExtractLimits())
    by_path = {m.path: m for m in tree.members}
    assert set(by_path) == {
        "pkg-1.0/setup.py",
        "pkg-1.0/bin/tool",
        "pkg-1.0/docs/link",
        "pkg-1.0/copy.py",
    }
    assert (destination / "pkg-1.0/setup.py").read_text() == "print('setup')\n"
    # Hard links become copies; symlinks are recorded but never created.
    assert (destination / "pkg-1.0/copy.py").read_text() == "print('setup')\n"
    assert not (destination / "pkg-1.0/docs/link").exists()
    assert by_path["pkg-1.0/docs/link"].link_target == "pkg-1.0/setup.py"
    # Only the executable bit survives; setuid is dropped.
    assert (destination / "pkg-1.0/bin/tool").stat().st_mode & 0o7777 == 0o755
    assert by_path["pkg-1.0/bin/tool"].is_executable


def test_list_archive_writes_nothing(make_archive: ArchiveFactory, tmp_path: Path) -> None:
    artifact = make_archive("pkg.tar.gz", "tar.gz", PACKAGE)
    before = all_files(tmp_path)
    members = list_archive(artifact, ExtractLimits())
    assert len(members) == 4
    assert all_files(tmp_path) == before


HOSTILE: list[tuple[str, list[dict[str, Any]], type[ArchiveRejected]]] = [
    ("traversal", [{"name": "../evil.sh", "data": "x"}], PathTraversal),
    ("nested-traversal", [{"name": "pkg/../../evil.sh", "data": "x"}], PathTraversal),
    ("absolute", [{"name": "/etc/cron.d/evil", "data": "x"}], AbsolutePath),
    ("drive", [{"name": "C:/evil", "data": "x"}], AbsolutePath),
    (
        "symlink-escape",
        [{"name": "pkg/l", "type": "symlink", "target": "../../etc/passwd"}],
        LinkEscape,
    ),
    (
        "symlink-absolute",
        [{"name": "pkg/l", "type": "symlink", "target": "/home/user/.ssh/id_rsa"}],
        LinkEscape,
    ),
    (
        "write-through-symlink",
        [
            {"name": "pkg/l", "type": "symlink", "target": "."},
            {"name": "pkg/l/x", "data": "x"},
        ],
        LinkEscape,
    ),
    (
        "hardlink-escape",
        [{"name": "pkg/h", "type": "hardlink", "target": "../../etc/passwd"}],
        LinkEscape,
    ),
    (
        "hardlink-absolute",
        [{"name": "pkg/h", "type": "hardlink", "target": "/etc/passwd"}],
        LinkEscape,
    ),
    ("hardlink-missing", [{"name": "pkg/h", "type": "hardlink", "target": "pkg/x"}], LinkEscape),
    ("chardev", [{"name": "pkg/null", "type": "chardev"}], SpecialFile),
    ("blockdev", [{"name": "pkg/sda", "type": "blockdev"}], SpecialFile),
    ("fifo", [{"name": "pkg/pipe", "type": "fifo"}], SpecialFile),
    ("undecodable", [{"name": "pkg/\udcff\udcfe.py", "data": "x"}], BadFilename),
    ("control-char", [{"name": "pkg/a\nb.py", "data": "x"}], BadFilename),
    ("backslash", [{"name": "pkg\\..\\..\\evil", "data": "x"}], BadFilename),
    ("duplicate", [{"name": "pkg/a", "data": "1"}, {"name": "pkg/a", "data": "2"}], DuplicateEntry),
    (
        "file-then-dir",
        [{"name": "pkg/a", "data": "1"}, {"name": "pkg/a/b", "data": "2"}],
        DuplicateEntry,
    ),
    ("too-deep", [{"name": "/".join(["d"] * 9) + "/f", "data": "x"}], PathTooLong),
    ("segment-too-long", [{"name": "pkg/" + "n" * 256, "data": "x"}], PathTooLong),
    ("file-too-large", [{"name": "pkg/big", "zeros": 40 << 10}], ArchiveTooLarge),
    (
        "total-too-large",
        [{"name": f"pkg/{i}", "data": noise(30 << 10, seed=i)} for i in range(3)],
        ArchiveTooLarge,
    ),
    ("too-many-files", [{"name": f"pkg/{i}", "data": ""} for i in range(40)], TooManyFiles),
]


def _zip_can_express(members: list[dict[str, Any]]) -> bool:
    # Zip has no hard links, and its names decode as cp437 unless flagged UTF-8 (the
    # undecodable case for zip lives in test_archive_zip).
    return not any(m.get("type") == "hardlink" or "\udcff" in m["name"] for m in members)


@pytest.mark.parametrize(
    ("archive_format", "members", "error"),
    [
        pytest.param(archive_format, members, error, id=f"{case}-{archive_format}")
        for case, members, error in HOSTILE
        for archive_format in ("tar.gz", "zip")
        if archive_format != "zip" or _zip_can_express(members)
    ],
)
def test_extract_hostile_member_rejected_before_writing(
    make_archive: ArchiveFactory,
    destination: Path,
    archive_format: str,
    members: list[dict[str, Any]],
    error: type[ArchiveRejected],
) -> None:
    artifact = make_archive(f"hostile.{archive_format}", archive_format, members)
    with pytest.raises(error) as raised:
        extract_archive(artifact, destination, SMALL)
    assert raised.value.code
    assert all_files(destination) == []


def test_extract_gzip_bomb_default_limits_rejected_by_ratio(
    tmp_path: Path, destination: Path
) -> None:
    # 64 MiB of zeros in one member compresses ~1000:1; the stream stops long before.
    payload = tmp_path / "bomb.tar.gz"
    info = tarfile.TarInfo("pkg/zeros")
    info.size = 64 << 20
    with gzip.open(payload, "wb", compresslevel=9) as raw:
        raw.write(info.tobuf(format=tarfile.GNU_FORMAT))
        zeros = bytes(1 << 20)
        for _ in range(64):
            raw.write(zeros)
    with pytest.raises(CompressionRatioExceeded) as raised:
        extract_archive(payload, destination, ExtractLimits())
    assert raised.value.member == "pkg/zeros"
    assert all_files(destination) == []


def _many_empty_members(count: int) -> bytes:
    """A plain tar of ``count`` empty files, built from one header template (fast)."""
    template = bytearray(tarfile.TarInfo("f/000000").tobuf(format=tarfile.USTAR_FORMAT))
    template[148:156] = b" " * 8
    base_sum = sum(template) - sum(b"f/000000")
    out = io.BytesIO()
    for index in range(count):
        name = b"f/%06d" % index
        header = bytearray(template)
        header[0:8] = name
        header[148:156] = b"%06o\x00 " % (base_sum + sum(name))
        out.write(header)
    out.write(bytes(1024))
    return out.getvalue()


def test_extract_100k_tiny_files_default_limits_rejected(tmp_path: Path, destination: Path) -> None:
    artifact = tmp_path / "many.tar.gz"
    artifact.write_bytes(gzip.compress(_many_empty_members(100_000), compresslevel=1))
    with pytest.raises(TooManyFiles):
        extract_archive(artifact, destination, ExtractLimits())
    assert all_files(destination) == []


def test_extract_not_an_archive_rejected(tmp_path: Path, destination: Path) -> None:
    artifact = tmp_path / "pkg.tgz"
    artifact.write_text("just text, not a tarball\n")
    with pytest.raises(UnsupportedArchive):
        extract_archive(artifact, destination, ExtractLimits())


def test_extract_truncated_tgz_rejected_as_malformed(
    make_archive: ArchiveFactory, destination: Path
) -> None:
    members: list[dict[str, Any]] = [{"name": f"pkg/{i}", "data": str(i) * 5000} for i in range(10)]
    artifact = make_archive("pkg.tgz", "tar.gz", members)
    artifact.write_bytes(artifact.read_bytes()[:-200])
    with pytest.raises(MalformedArchive):
        extract_archive(artifact, destination, ExtractLimits())


def test_extract_without_stdlib_data_filter_still_checks_members(
    make_archive: ArchiveFactory, destination: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The image's Python (Debian bookworm, 3.11.2) predates tarfile.data_filter.
    monkeypatch.delattr(tarfile, "data_filter")
    clean = make_archive("pkg.tgz", "tar.gz", PACKAGE)
    assert len(extract_archive(clean, destination, ExtractLimits()).members) == 4
    hostile = make_archive("evil.tgz", "tar.gz", [{"name": "../evil", "data": "x"}])
    with pytest.raises(PathTraversal):
        extract_archive(hostile, destination / "pkg-1.0", ExtractLimits())
