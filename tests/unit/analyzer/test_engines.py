"""Engine behaviour beyond the rule fixtures: hostile sources, resolution, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from packguard.analyzer.engines.base import ScanContext, compile_globs
from packguard.analyzer.engines.manifest import ManifestEngine, load_scripts
from packguard.analyzer.engines.python_ast import PythonAstEngine, parse_source
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

PYPI = ScanContext("pypi")
NPM = ScanContext("npm")


def tree_file(tmp_path: Path, path: str, content: bytes, file_type: str) -> TreeFile:
    disk = tmp_path / path.replace("/", "_")
    disk.write_bytes(content)
    return TreeFile(path, path, disk, file_type, len(content))


def spec_of(rules: tuple[RuleSpec, ...], rule_id: str) -> RuleSpec:
    return next(spec for spec in rules if spec.id == rule_id)


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("setup.py", "setup.py", True),
        ("*/setup.py", "pkg-1.0/setup.py", True),
        ("*/setup.py", "pkg-1.0/sub/setup.py", False),
        ("**/setup.py", "setup.py", True),
        ("**/setup.py", "a/b/setup.py", True),
        ("**", "a/b/c.py", True),
        ("*.py", "a/b.py", False),
        ("pkg/?.py", "pkg/a.py", True),
    ],
)
def test_compile_globs_segment_semantics(glob: str, path: str, expected: bool) -> None:
    assert bool(compile_globs([glob]).match(path)) is expected


@pytest.mark.parametrize(
    "source",
    [
        b"print 'python 2'\n",
        b"x = 1\x00\n",
        b"(" * 300 + b")" * 300,
        b"# -*- coding: no-such-codec -*-\nx = 1\n",
        b"\xff\xfe garbage",
    ],
)
def test_parse_source_hostile_or_foreign_returns_none(source: bytes) -> None:
    assert parse_source(source) is None


def test_python_ast_scan_skips_unparsable_and_counts_them(
    rules: tuple[RuleSpec, ...], tmp_path: Path
) -> None:
    spec = spec_of(rules, "obfuscation-exec-decoded")
    files = [
        tree_file(tmp_path, "py2.py", b"print 'x'\nexec base64.b64decode('MQ==')\n", "python"),
        tree_file(tmp_path, "ok.py", b"import base64\nexec(base64.b64decode('MQ=='))\n", "python"),
        tree_file(tmp_path, "notes.txt", b"exec(base64.b64decode('MQ=='))\n", "text"),
    ]
    result = PythonAstEngine().scan(files, [spec], PYPI)
    assert [(hit.file, hit.line) for hit in result.hits] == [("ok.py", 2)]
    assert result.notes == ["python files: 1 parsed, 1 unparsable, 0 too large"]


def test_python_ast_deep_expression_does_not_crash(
    rules: tuple[RuleSpec, ...], tmp_path: Path
) -> None:
    # A left-deep chain deeper than the recursion limit (1000) that still parses: the
    # engine's walks must be iterative. Deeper ones fail to parse and are skipped.
    chain = b" + ".join([b"base64.b64decode(x)"] * 2500)
    source = b"import base64\nexec(" + chain + b")\n"
    files = [tree_file(tmp_path, "deep.py", source, "python")]
    result = PythonAstEngine().scan(files, [spec_of(rules, "obfuscation-exec-decoded")], PYPI)
    assert [hit.line for hit in result.hits] == [2]


def test_python_ast_snippet_is_capped(rules: tuple[RuleSpec, ...], tmp_path: Path) -> None:
    source = b"import base64\nexec(base64.b64decode('" + b"A" * 5000 + b"'))\n"
    files = [tree_file(tmp_path, "long.py", source, "python")]
    (hit,) = PythonAstEngine().scan(files, [spec_of(rules, "obfuscation-exec-decoded")], PYPI).hits
    assert hit.snippet is not None
    assert len(hit.snippet) <= 200


def test_python_ast_shadowed_builtin_not_reported(
    rules: tuple[RuleSpec, ...], tmp_path: Path
) -> None:
    source = b"import base64\nfrom mylib import safe_exec as exec\nexec(base64.b64decode('MQ=='))\n"
    files = [tree_file(tmp_path, "shadow.py", source, "python")]
    assert (
        PythonAstEngine().scan(files, [spec_of(rules, "obfuscation-exec-decoded")], PYPI).hits == []
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"scripts": ' * 100_000,
        b"\xff\xfe{}",
        b'{"a": 1' + b"0" * 5000 + b"}",
    ],
)
def test_load_scripts_hostile_manifest_is_not_a_manifest(raw: bytes) -> None:
    assert load_scripts(raw) is None


def test_load_scripts_keeps_only_string_scripts() -> None:
    raw = b'\xef\xbb\xbf{"scripts": {"postinstall": "node x.js", "install": ["array"]}}'
    assert load_scripts(raw) == {"postinstall": "node x.js"}


def test_manifest_scan_ignores_package_json_below_the_package_root(
    rules: tuple[RuleSpec, ...], tmp_path: Path
) -> None:
    content = b'{"scripts": {"postinstall": "node x.js"}}'
    files = [
        tree_file(tmp_path, "package/node_modules/dep/package.json", content, "json"),
        tree_file(tmp_path, "package/package.json", content, "json"),
    ]
    hits = ManifestEngine().scan(files, [spec_of(rules, "install-hook-npm-script")], NPM).hits
    assert [(hit.file, hit.line) for hit in hits] == [("package/package.json", 1)]
