"""Inventory entries and coarse file types."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from packguard.analyzer.archive import ExtractLimits, extract_archive
from packguard.analyzer.filetypes import HEAD_BYTES, sniff_file_type
from packguard.analyzer.inventory import build_inventory

ArchiveFactory = Callable[[str, str, Sequence[dict[str, Any]]], Path]


@pytest.mark.parametrize(
    ("path", "head", "expected"),
    [
        ("pkg/mod.py", b"import os\n", "python"),
        ("pkg/stub.pyi", b"def f() -> int: ...\n", "python"),
        ("bin/tool", b"#!/usr/bin/env python3\nprint(1)\n", "python"),
        ("bin/cli", b"#!/usr/bin/env node\nconsole.log(1)\n", "javascript"),
        ("index.js", b"module.exports = 1;\n", "javascript"),
        ("lib/esm.mjs", b"export default 1;\n", "javascript"),
        ("package.json", b'{"name": "x"}', "json"),
        ("README.md", b"# Title\n", "text"),
        ("empty", b"", "text"),
        ("lib.so", b"\x7fELF\x02\x01\x01" + bytes(9), "binary-elf"),
        ("setup.py", b"\x7fELF\x02\x01\x01" + bytes(9), "binary-elf"),
        ("tool.exe", b"MZ\x90\x00" + bytes(60), "binary-pe"),
        ("lib.dylib", b"\xcf\xfa\xed\xfe" + bytes(12), "binary-macho"),
        ("fat.dylib", b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(8), "binary-macho"),
        ("Main.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(8), "other"),
        ("inner.tgz", b"\x1f\x8b\x08\x00" + bytes(8), "archive"),
        ("inner.whl", b"PK\x03\x04" + bytes(8), "archive"),
        ("inner.tar", bytes(257) + b"ustar\x0000", "archive"),
        ("data.bin", b"\x00\x01\x02\x03", "other"),
        ("latin1.txt", "café".encode("latin-1"), "other"),
        ("cut.txt", b"a" * (HEAD_BYTES - 1) + "é".encode()[:1], "text"),
    ],
)
def test_sniff_file_type_table(path: str, head: bytes, expected: str) -> None:
    assert sniff_file_type(path, head) == expected


def test_build_inventory_records_every_member(
    make_archive: ArchiveFactory, destination: Path
) -> None:
    members: list[dict[str, Any]] = [
        {"name": "package", "type": "dir"},
        {"name": "package/package.json", "data": '{"name": "x"}'},
        {"name": "package/bin/run", "data": "#!/usr/bin/env node\n", "mode": 0o755},
        {"name": "package/.hidden/cfg", "data": "x=1\n"},
        {"name": "package/latest", "type": "symlink", "target": "bin/run"},
        {"name": "package/bin/run2", "type": "hardlink", "target": "package/bin/run"},
    ]
    artifact = make_archive("pkg.tgz", "tar.gz", members)
    inventory = build_inventory(extract_archive(artifact, destination, ExtractLimits()))
    by_path = {e.path: e for e in inventory.entries}
    assert list(by_path) == sorted(by_path)
    manifest = by_path["package/package.json"]
    assert manifest.sha256 == hashlib.sha256(b'{"name": "x"}').hexdigest()
    assert (manifest.size_bytes, manifest.kind, manifest.file_type) == (13, "file", "json")
    assert by_path["package/bin/run"].is_executable
    assert by_path["package/bin/run"].file_type == "javascript"
    assert not manifest.is_executable
    assert by_path["package/.hidden/cfg"].is_hidden
    assert by_path["package/latest"].kind == "symlink"
    assert by_path["package/latest"].sha256 is None
    assert by_path["package/bin/run2"].kind == "hardlink"
    assert by_path["package/bin/run2"].sha256 == by_path["package/bin/run"].sha256
    assert {f.path for f in inventory.files} == {
        "package/package.json",
        "package/bin/run",
        "package/.hidden/cfg",
        "package/bin/run2",
    }


def test_build_inventory_prefix_namespaces_paths_not_rule_paths(
    make_archive: ArchiveFactory, destination: Path
) -> None:
    artifact = make_archive("pkg.zip", "zip", [{"name": "pkg/a.py", "data": "x = 1\n"}])
    inventory = build_inventory(extract_archive(artifact, destination, ExtractLimits()), "pkg.zip/")
    (tree_file,) = inventory.files
    assert (tree_file.path, tree_file.member_path) == ("pkg.zip/pkg/a.py", "pkg/a.py")
