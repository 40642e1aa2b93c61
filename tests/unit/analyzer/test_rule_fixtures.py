"""Every rule against its fixtures: ``rules/<rule-id>/{match,clean}/``.

Fixture files end in ``.fixture`` (so no tool imports, lints or runs them); the suffix is
dropped to get the file's path in the scanned tree. A line containing
``expect: <rule-id>`` must be reported by that rule. In its own folders a rule must fire
on exactly its marked lines: at least one in ``match/``, none in ``clean/``.

An optional ``context.json`` in a folder (not a tree file) gives the scan's package
context: ``{"ecosystem": "npm", "declared_name": "left-pad"}`` (default: pypi, no
declared name), for the ``metadata`` rules.

``archive`` rules take recipes instead of source: a JSON archive description built and
extracted by the test; the marker sits on the offending member's line (or on the
``format`` line when the artifact as a whole is refused).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from packguard.analyzer.archive import ExtractLimits, extract_archive
from packguard.analyzer.engines import ENGINES, Hit, ScanContext
from packguard.analyzer.engines.archive import rejection_hit
from packguard.analyzer.errors import ArchiveRejected
from packguard.analyzer.filetypes import HEAD_BYTES, sniff_file_type
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.ruleset import load_rules
from packguard.analyzer.rulespec import RuleSpec

FIXTURES = Path(__file__).parent / "rules"
SUFFIX = ".fixture"
MARKER = re.compile(r"expect:\s*([a-z0-9-]+)")
CONTEXT_FILE = "context.json"
RECIPE_LIMITS = ExtractLimits(
    max_total_bytes=64 << 10,
    max_file_bytes=32 << 10,
    max_files=32,
    max_ratio=100,
    ratio_floor_bytes=16 << 10,
    max_depth=8,
    max_path_bytes=128,
)
Builder = Callable[[Path, str, Sequence[dict[str, Any]]], Path]
Located = tuple[str, str, int | None]  # rule id, fixture path, line


def fixture_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != CONTEXT_FILE)


def scan_context(folder: Path) -> ScanContext:
    path = folder / CONTEXT_FILE
    data = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    return ScanContext(data.get("ecosystem", "pypi"), data.get("declared_name"))


def markers(folder: Path) -> set[Located]:
    found: set[Located] = set()
    for path in fixture_files(folder):
        relative = str(path.relative_to(folder))
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            found |= {(rule_id, relative, number) for rule_id in MARKER.findall(line)}
    return found


def tree_files(folder: Path) -> list[TreeFile]:
    files = []
    for path in fixture_files(folder):
        assert path.name.endswith(SUFFIX), f"{path} must end in {SUFFIX}"
        tree_path = str(path.relative_to(folder)).removesuffix(SUFFIX)
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        file_type = sniff_file_type(tree_path, head)
        files.append(TreeFile(tree_path, tree_path, path, file_type, path.stat().st_size))
    return files


def source_hits(folder: Path, specs: Sequence[RuleSpec]) -> set[Located]:
    files = tree_files(folder)
    context = scan_context(folder)
    hits: list[Hit] = []
    for name, engine in ENGINES.items():
        hits.extend(engine.scan(files, [s for s in specs if s.engine == name], context).hits)
    return {(h.rule_id, f"{h.file}{SUFFIX}", h.line) for h in hits}


def recipe_line(recipe: Path, hit: Hit, artifact: str) -> int | None:
    needle = '"format"' if hit.file == artifact else f'"name": {json.dumps(hit.file)}'
    lines = recipe.read_text("utf-8").splitlines()
    return next((n for n, text in enumerate(lines, start=1) if needle in text), None)


def recipe_hits(folder: Path, build: Builder, scratch: Path) -> set[Located]:
    found = set()
    for index, recipe in enumerate(fixture_files(folder)):
        description = json.loads(recipe.read_text("utf-8"))
        artifact = build(scratch / f"recipe-{index}", description["format"], description["members"])
        destination = scratch / f"out-{index}"
        destination.mkdir()
        try:
            extract_archive(artifact, destination, RECIPE_LIMITS)
        except ArchiveRejected as error:
            hit = rejection_hit(error, artifact.name)
            relative = str(recipe.relative_to(folder))
            found.add((hit.rule_id, relative, recipe_line(recipe, hit, artifact.name)))
    return found


CASES = [
    pytest.param(spec.id, kind, id=f"{spec.id}-{kind}")
    for spec in load_rules()
    for kind in ("match", "clean")
]


@pytest.mark.parametrize(("rule_id", "kind"), CASES)
def test_rule_fires_exactly_on_marked_lines(
    rules: tuple[RuleSpec, ...], archive_builder: Builder, tmp_path: Path, rule_id: str, kind: str
) -> None:
    spec = next(s for s in rules if s.id == rule_id)
    folder = FIXTURES / rule_id / kind
    expected = markers(folder)
    if spec.engine == "archive":
        fired = recipe_hits(folder, archive_builder, tmp_path)
    else:
        fired = source_hits(folder, rules)
    assert expected <= fired, f"markers not reported: {sorted(expected - fired)}"
    own_expected = {hit for hit in expected if hit[0] == rule_id}
    own_fired = {hit for hit in fired if hit[0] == rule_id}
    assert own_fired == own_expected
    assert bool(own_expected) == (kind == "match")


def test_every_rule_has_match_and_clean_fixtures(rules: tuple[RuleSpec, ...]) -> None:
    missing = [
        f"{spec.id}/{kind}"
        for spec in rules
        for kind in ("match", "clean")
        if not (FIXTURES / spec.id / kind).is_dir() or not fixture_files(FIXTURES / spec.id / kind)
    ]
    assert missing == []


def test_every_fixture_folder_and_marker_names_a_rule(rules: tuple[RuleSpec, ...]) -> None:
    ids = {spec.id for spec in rules}
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} <= ids
    named = {rule_id for folder in FIXTURES.iterdir() for rule_id, _, _ in markers(folder)}
    assert named <= ids
