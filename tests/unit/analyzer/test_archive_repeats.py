"""Paths an archive carries twice: byte-identical copies are kept once, anything else is
refused before a byte is written (tar and zip alike)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from packguard.analyzer.analyze import AnalysisRequest, analyze
from packguard.analyzer.archive import ExtractLimits, extract_archive, list_archive
from packguard.analyzer.archive.members import ArchiveMember, RawEntry, TreeWriter
from packguard.analyzer.errors import DuplicateEntry
from packguard.analyzer.rulespec import RuleSpec

ArchiveFactory = Callable[[str, str, Sequence[dict[str, Any]]], Path]
FORMATS = ("tar.gz", "tar", "zip")
LICENSE = "Apache License\nVersion 2.0\n" * 50


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("archive_format", FORMATS)
def test_extract_identical_duplicate_kept_once_and_noted(
    make_archive: ArchiveFactory, destination: Path, archive_format: str
) -> None:
    members: list[dict[str, Any]] = [
        {"name": "pkg-1.0/LICENSE.txt", "data": LICENSE},
        {"name": "pkg-1.0/setup.py", "data": "print('setup')\n"},
        {"name": "pkg-1.0/LICENSE.txt", "data": LICENSE},
        {"name": "./pkg-1.0/LICENSE.txt", "data": LICENSE},
    ]
    artifact = make_archive(f"pkg.{archive_format}", archive_format, members)
    tree = extract_archive(artifact, destination, ExtractLimits())
    assert [m.path for m in tree.members] == ["pkg-1.0/LICENSE.txt", "pkg-1.0/setup.py"]
    assert tree.repeats == ("pkg-1.0/LICENSE.txt",)
    assert (destination / "pkg-1.0" / "LICENSE.txt").read_text() == LICENSE
    assert [m.path for m in list_archive(artifact, ExtractLimits())] == [
        "pkg-1.0/LICENSE.txt",
        "pkg-1.0/setup.py",
    ]


@pytest.mark.parametrize("archive_format", FORMATS)
@pytest.mark.parametrize(
    "second",
    [
        pytest.param({"data": LICENSE.replace("2.0", "9.9")}, id="same-size-other-bytes"),
        pytest.param({"data": LICENSE + "import os\n"}, id="other-size"),
        pytest.param({"data": LICENSE, "mode": 0o755}, id="now-executable"),
        pytest.param({"type": "symlink", "target": "setup.py"}, id="now-a-symlink"),
    ],
)
def test_extract_differing_duplicate_rejected_before_writing(
    make_archive: ArchiveFactory,
    destination: Path,
    archive_format: str,
    second: dict[str, Any],
) -> None:
    members: list[dict[str, Any]] = [
        {"name": "pkg-1.0/LICENSE.txt", "data": LICENSE},
        {"name": "pkg-1.0/setup.py", "data": "print('setup')\n"},
        {"name": "pkg-1.0/LICENSE.txt", **second},
    ]
    artifact = make_archive(f"pkg.{archive_format}", archive_format, members)
    with pytest.raises(DuplicateEntry) as raised:
        extract_archive(artifact, destination, ExtractLimits())
    assert raised.value.member == "pkg-1.0/LICENSE.txt"
    assert raised.value.rule_id == "archive-unsafe-entry"
    assert files_under(destination) == []


def test_extract_repeat_differing_from_written_copy_rejected(tmp_path: Path) -> None:
    """The extraction pass compares again (the listing pass is not its only guard)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.txt").write_bytes(b"first copy")
    writer = TreeWriter(tmp_path, ExtractLimits())
    member = ArchiveMember("pkg/a.txt", "file", 10, 0o644, repeat=True)

    def entry(data: bytes) -> RawEntry:
        return RawEntry("pkg/a.txt", "file", len(data), 0o644, open_data=lambda: iter([data]))

    writer.check_repeat(member, entry(b"first copy"))
    for other in (b"other copy", b"first cop", b"first copy!"):
        with pytest.raises(DuplicateEntry):
            writer.check_repeat(member, entry(other))
    assert (tmp_path / "pkg" / "a.txt").read_bytes() == b"first copy"


def test_analyze_sdist_with_identical_duplicate_is_not_rejected(
    make_archive: ArchiveFactory, tmp_path: Path, rules: tuple[RuleSpec, ...]
) -> None:
    members: list[dict[str, Any]] = [
        {"name": "dup-1.0/PKG-INFO", "data": "Metadata-Version: 2.1\nName: dup\nVersion: 1.0\n"},
        {"name": "dup-1.0/LICENSE.txt", "data": LICENSE},
        {"name": "dup-1.0/dup.py", "data": "VALUE = 1\n"},
        {"name": "dup-1.0/LICENSE.txt", "data": LICENSE},
    ]
    artifact = make_archive("dup-1.0.tar.gz", "tar.gz", members)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    request = AnalysisRequest("pypi", "dup", "1.0", (artifact,), scratch, static_only=True)
    report = analyze(request, rules)
    assert report.error is None
    assert not [f for f in report.findings if f.category == "archive"]
    extract = next(phase for phase in report.phases if phase.name == "extract")
    assert extract.detail is not None and "identical: dup-1.0/LICENSE.txt" in extract.detail
    assert [e.path for e in report.inventory].count("dup-1.0/LICENSE.txt") == 1
