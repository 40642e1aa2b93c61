import tarfile
from pathlib import Path

import pytest

from packguard.devstack.analyzer_image import (
    TAG_LENGTH,
    analyzer_image_name,
    analyzer_tag,
    build_args,
    write_context_tar,
)
from packguard.devstack.base_image import BASE_IMAGE
from packguard.devstack.source_digest import digest_entries


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The parts of a checkout the analyzer image is made of, plus one it is not."""
    files = {
        "libs/analyzer/src/packguard/analyzer/analyze.py": 'ANALYZER_VERSION = "1.2.3"\n',
        "libs/analyzer/src/packguard/analyzer/rules/r.yaml": "id: r\n",
        "libs/analyzer/pyproject.toml": "[project]\n",
        "libs/analyzer/image/Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n",
        "libs/analyzer/image/build-context.sh": "#!/bin/sh\n",
        "libs/common/src/packguard/common/report.py": "X = 1\n",
        "libs/common/pyproject.toml": "[project]\n",
        "constraints.txt": "pydantic==2.0\n",
        "services/gateway/src/packguard/gateway/app.py": "Y = 1\n",
    }
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_analyzer_tag_unchanged_checkout_same_short_hex_tag(checkout: Path) -> None:
    tag = analyzer_tag(checkout)
    assert tag == analyzer_tag(checkout)
    assert len(tag) == TAG_LENGTH
    int(tag, 16)
    assert analyzer_image_name(tag) == f"localhost/packguard-analyzer:{tag}"


@pytest.mark.parametrize(
    "relative",
    [
        "libs/analyzer/src/packguard/analyzer/analyze.py",
        "libs/analyzer/src/packguard/analyzer/rules/r.yaml",
        "libs/analyzer/image/Dockerfile",
        "libs/analyzer/image/build-context.sh",
        "libs/common/src/packguard/common/report.py",
        "libs/analyzer/pyproject.toml",
        "constraints.txt",
    ],
)
def test_analyzer_tag_source_file_changed_tag_changes(checkout: Path, relative: str) -> None:
    before = analyzer_tag(checkout)
    with (checkout / relative).open("a") as handle:
        handle.write("# changed\n")
    assert analyzer_tag(checkout) != before


def test_analyzer_tag_file_added_or_renamed_tag_changes(checkout: Path) -> None:
    before = analyzer_tag(checkout)
    added = checkout / "libs/analyzer/src/packguard/analyzer/new.py"
    added.write_text("")
    with_added = analyzer_tag(checkout)
    added.rename(added.with_name("renamed.py"))
    assert len({before, with_added, analyzer_tag(checkout)}) == 3


@pytest.mark.parametrize(
    "relative",
    [
        "services/gateway/src/packguard/gateway/app.py",  # not in the image
        "libs/analyzer/src/packguard/analyzer/__pycache__/analyze.cpython-311.pyc",
        "libs/analyzer/.ruff_cache/0.1/cache",
        "libs/common/src/packguard/common/report.pyc",
    ],
)
def test_analyzer_tag_unrelated_or_cache_file_changed_tag_unchanged(
    checkout: Path, relative: str
) -> None:
    before = analyzer_tag(checkout)
    path = checkout / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00changed")
    assert analyzer_tag(checkout) == before


def test_digest_entries_order_independent_and_boundary_safe() -> None:
    assert digest_entries([("a", b"1"), ("b", b"2")]) == digest_entries([("b", b"2"), ("a", b"1")])
    # Moving bytes between a path and its content must not collide.
    assert digest_entries([("ab", b"c")]) != digest_entries([("a", b"bc")])


def test_build_args_local_base_image_and_version_from_source(checkout: Path) -> None:
    assert build_args(checkout) == {"BASE_IMAGE": BASE_IMAGE, "ANALYZER_VERSION": "1.2.3"}
    (checkout / "libs/analyzer/src/packguard/analyzer/analyze.py").unlink()
    assert build_args(checkout) == {"BASE_IMAGE": BASE_IMAGE}


def test_write_context_tar_relative_names_root_owned_zero_mtime(tmp_path: Path) -> None:
    context = tmp_path / "context"
    (context / "wheels").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM x\n")
    (context / "wheels" / "a.whl").write_bytes(b"PK")
    write_context_tar(context, tmp_path / "context.tar")
    with tarfile.open(tmp_path / "context.tar") as archive:
        members = archive.getmembers()
    assert [m.name for m in members] == ["Dockerfile", "wheels", "wheels/a.whl"]
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, 0)}
