"""Member path and link rules, as tables and as a property over random archives."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packguard.analyzer.archive import ExtractLimits, extract_archive
from packguard.analyzer.archive.members import normalize_member_path, resolve_symlink_target
from packguard.analyzer.errors import (
    AbsolutePath,
    ArchiveRejected,
    BadFilename,
    LinkEscape,
    PathTooLong,
    PathTraversal,
)

LIMITS = ExtractLimits()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pkg/a.py", "pkg/a.py"),
        ("./pkg/a.py", "pkg/a.py"),
        ("pkg//a.py", "pkg/a.py"),
        ("pkg/./a.py", "pkg/a.py"),
        ("pkg/", "pkg"),
        ("./", ""),
        ("pkg/..a/b..", "pkg/..a/b.."),
        ("pkg/ünïcode.py", "pkg/ünïcode.py"),
    ],
)
def test_normalize_member_path_accepts_and_normalizes(raw: str, expected: str) -> None:
    assert normalize_member_path(raw, LIMITS) == expected


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("../a", PathTraversal),
        ("pkg/../../a", PathTraversal),
        ("pkg/..", PathTraversal),
        ("/abs", AbsolutePath),
        ("//abs", AbsolutePath),
        ("c:/windows", AbsolutePath),
        ("pkg\\a", BadFilename),
        ("pkg/\x00a", BadFilename),
        ("pkg/\x1b[31m", BadFilename),
        ("pkg/\udc80", BadFilename),
        ("a/" * 65 + "f", PathTooLong),
        ("p" * 256, PathTooLong),
        ("pkg/" + "d/" * 10 + "x" * 1100, PathTooLong),
    ],
)
def test_normalize_member_path_rejects_hostile(raw: str, error: type[ArchiveRejected]) -> None:
    with pytest.raises(error):
        normalize_member_path(raw, LIMITS)


@pytest.mark.parametrize(
    ("path", "target", "expected"),
    [
        ("pkg/l", "a.py", "pkg/a.py"),
        ("pkg/sub/l", "../a.py", "pkg/a.py"),
        ("pkg/l", "./sub/../a.py", "pkg/a.py"),
        ("l", "pkg", "pkg"),
        ("pkg/l", "..", ""),
    ],
)
def test_resolve_symlink_target_inside_tree(path: str, target: str, expected: str) -> None:
    assert resolve_symlink_target(path, target, LIMITS) == expected


@pytest.mark.parametrize(
    ("path", "target"),
    [("l", ".."), ("pkg/l", "../.."), ("pkg/l", "/etc/passwd"), ("pkg/l", "a/../../../x")],
)
def test_resolve_symlink_target_escaping_rejected(path: str, target: str) -> None:
    with pytest.raises(LinkEscape):
        resolve_symlink_target(path, target, LIMITS)


_segments = st.sampled_from(["pkg", "a", "..", ".", "", "b.py", "\\", "/", "c:", "\udcff"])
_names = st.lists(_segments, min_size=1, max_size=6).map("/".join)
_members = st.lists(
    st.fixed_dictionaries(
        {
            "name": _names,
            "type": st.sampled_from(["file", "dir", "symlink", "hardlink"]),
            "target": _names,
            "data": st.text(max_size=5),
        }
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(members=_members, archive_format=st.sampled_from(["tar", "zip"]))
def test_extract_random_members_never_writes_outside_destination(
    archive_builder: Callable[[Path, str, Sequence[dict[str, str]]], Path],
    members: list[dict[str, str]],
    archive_format: str,
) -> None:
    if archive_format == "zip":
        members = [{**m, "type": "file" if m["type"] == "hardlink" else m["type"]} for m in members]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        destination = root / "out"
        destination.mkdir()
        try:
            artifact = archive_builder(root / f"random.{archive_format}", archive_format, members)
        except (ValueError, UnicodeEncodeError, OSError):
            return  # the builder itself cannot express this member list
        try:
            tree = extract_archive(artifact, destination, LIMITS)
        except ArchiveRejected:
            pass
        else:
            for member in tree.members:
                assert ".." not in member.path.split("/")
        outside = {p for p in root.rglob("*") if destination not in (p, *p.parents)}
        assert outside == {artifact}
        assert not any(p.is_symlink() for p in destination.rglob("*"))
