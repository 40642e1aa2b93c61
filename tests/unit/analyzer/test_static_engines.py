"""The js, text and metadata engines beyond their rule fixtures: hostile or odd input,
name resolution, declared identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from packguard.analyzer.engines.base import ScanContext
from packguard.analyzer.engines.entropy import is_encoded_blob, shannon_entropy
from packguard.analyzer.engines.js import MAX_JS_BYTES, JsEngine, install_scripts
from packguard.analyzer.engines.js_facts import JsFacts, collect_js_facts, make_query
from packguard.analyzer.engines.js_parser import JsParser
from packguard.analyzer.engines.text import TextEngine
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.ruleset import run_rules
from packguard.analyzer.rulespec import RuleSpec

NPM = ScanContext("npm")


def tree_file(tmp_path: Path, path: str, content: bytes, file_type: str) -> TreeFile:
    disk = tmp_path / path.replace("/", "_")
    disk.write_bytes(content)
    return TreeFile(path, path, disk, file_type, len(content))


def spec_of(rules: tuple[RuleSpec, ...], rule_id: str) -> RuleSpec:
    return next(spec for spec in rules if spec.id == rule_id)


def facts_of(source: bytes) -> JsFacts:
    parser = JsParser()
    facts = collect_js_facts(parser, make_query(parser), source)
    assert facts is not None
    return facts


def test_js_facts_resolve_require_import_and_aliases() -> None:
    facts = facts_of(
        b"const cp = require('node:child_process'); const {exec: run} = require('child_process');\n"
        b"import * as fs from 'fs'; import {get as fetchIt} from 'https'; const e = eval;\n"
        b"cp.spawn('x'); run('y'); fs.readFileSync('z'); fetchIt('u'); e('1'); (0, eval)('2');\n"
        b"globalThis.process.exit(0); require('os').homedir();\n"
    )
    names = [call.name for call in facts.calls]
    for expected in (
        "child_process.spawn",
        "child_process.exec",
        "fs.readFileSync",
        "https.get",
        "eval",
        "process.exit",
        "os.homedir",
    ):
        assert expected in names


@pytest.mark.parametrize(
    "source",
    [
        b"function ( {{{ eval(atob('eA==')",
        b"\x00\xff\xfe garbage \x00",
        b"var a = " + b"[" * 5000 + b"]" * 5000 + b";",
        b"`unterminated template ${ eval(atob('x')) ",
    ],
)
def test_js_engine_survives_broken_or_hostile_source(
    rules: tuple[RuleSpec, ...], tmp_path: Path, source: bytes
) -> None:
    files = [tree_file(tmp_path, "package/index.js", source, "javascript")]
    result = JsEngine().scan(files, [spec_of(rules, "obfuscation-js-eval-decoded")], NPM)
    assert result.notes[0].startswith("js files: 1 parsed")


def test_js_engine_reports_inside_broken_minified_code(
    rules: tuple[RuleSpec, ...], tmp_path: Path
) -> None:
    source = b"var x=1;" * 300 + b"eval(atob('eA=='));function(){{{"
    files = [tree_file(tmp_path, "package/min.js", source, "javascript")]
    result = JsEngine().scan(files, [spec_of(rules, "obfuscation-js-eval-decoded")], NPM)
    (hit,) = result.hits
    assert hit.line == 1
    assert hit.snippet is not None and hit.snippet.startswith("eval(atob")
    assert "1 with syntax errors" in result.notes[0]


def test_js_engine_skips_oversized_files(rules: tuple[RuleSpec, ...], tmp_path: Path) -> None:
    disk = tmp_path / "big.js"
    disk.write_bytes(b"eval(atob('eA=='));")
    big = TreeFile("package/big.js", "package/big.js", disk, "javascript", MAX_JS_BYTES + 1)
    result = JsEngine().scan([big], [spec_of(rules, "obfuscation-js-eval-decoded")], NPM)
    assert result.hits == []
    assert "1 too large" in result.notes[0]


def test_js_parser_gives_up_after_its_timeout() -> None:
    assert JsParser(timeout_seconds=-1.0).parse(b"var x = 1;" * 1000) is None
    assert JsParser().parse(b"var x = 1;") is not None


def test_install_scripts_follow_node_commands(tmp_path: Path) -> None:
    manifest = (
        b'{"scripts": {"postinstall": "node ./scripts/a.js && node -e 1", "test": "node t.js"}}'
    )
    files = [tree_file(tmp_path, "package/package.json", manifest, "json")]
    assert install_scripts(files) == frozenset({"package/scripts/a.js"})


def test_text_engine_skips_docs_and_caps_long_line_snippets(
    rules: tuple[RuleSpec, ...], tmp_path: Path
) -> None:
    long_line = b"x = '" + b"a" * 100_000 + b" stratum+tcp://pool.invalid:1'\n"
    files = [
        tree_file(tmp_path, "pkg/README.md", b"stratum+tcp://pool.invalid:1\n", "text"),
        tree_file(tmp_path, "pkg/LICENSE", b"stratum+tcp://pool.invalid:1\n", "text"),
        tree_file(tmp_path, "pkg/mine.py", long_line, "python"),
    ]
    (hit,) = TextEngine().scan(files, [spec_of(rules, "miner-pool-indicator")], NPM).hits
    assert (hit.file, hit.line) == ("pkg/mine.py", 1)
    assert hit.snippet is not None and "stratum+tcp" in hit.snippet
    assert len(hit.snippet) <= 200


def test_run_rules_compares_declared_name_with_metadata(
    rules: tuple[RuleSpec, ...], tmp_path: Path
) -> None:
    manifest = b'{\n  "name": "left-pad",\n  "version": "1.0.0"\n}\n'
    files = [tree_file(tmp_path, "package/package.json", manifest, "json")]
    found = run_rules(rules, files, "npm", declared_name="right-pad").findings
    (mismatch,) = [f for f in found if f.rule_id == "metadata-name-mismatch"]
    assert (mismatch.evidence[0].file, mismatch.evidence[0].line) == ("package/package.json", 2)
    assert run_rules(rules, files, "npm", declared_name="left-pad").findings == []


def test_run_rules_typosquat_uses_declared_name(
    rules: tuple[RuleSpec, ...], tmp_path: Path
) -> None:
    files = [tree_file(tmp_path, "pkg/__init__.py", b"", "python")]
    found = run_rules(rules, files, "pypi", declared_name="reqeusts").findings
    assert [f.rule_id for f in found] == ["metadata-typosquat"]
    assert "requests" in (found[0].evidence[0].snippet or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("QmFzZTY0IGRhdGE9" * 40, True),  # base64
        ("z" * 600, False),  # one repeated letter is not an encoding
        ("0f" * 300, True),
        ("the quick brown fox " * 40, False),
        ("-----BEGIN CERTIFICATE-----\n" + "QUJD" * 200, False),
        ("short", False),
    ],
)
def test_is_encoded_blob(text: str, expected: bool) -> None:
    assert is_encoded_blob(text) is expected


def test_shannon_entropy_bounds() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("ab" * 8) == 1.0
