"""Loading rule files: the shape is enforced, mistakes fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from packguard.analyzer.engines import ENGINES
from packguard.analyzer.ruledocs import render_rules_markdown
from packguard.analyzer.ruleset import load_rules
from packguard.analyzer.rulespec import RuleFileError, RuleSpec

VALID = """\
id: obfuscation-example
title: Example
severity: high
confidence: 0.5
category: obfuscation
ecosystems: [pypi]
engine: python-ast
description: An example rule.
evidence: file and line
match:
  any_of:
    - call: [exec]
"""


def write_rule(
    root: Path, text: str, category: str = "obfuscation", name: str = "obfuscation-example"
) -> Path:
    folder = root / category
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(text)
    return root


def test_load_rules_packaged_rules_are_valid_and_engines_known(
    rules: tuple[RuleSpec, ...],
) -> None:
    assert len(rules) >= 10
    assert {spec.engine for spec in rules} <= set(ENGINES)
    assert [spec.id for spec in rules] == sorted(spec.id for spec in rules)


def test_load_rules_valid_file_loads(tmp_path: Path) -> None:
    (spec,) = load_rules(write_rule(tmp_path, VALID))
    assert spec.id == "obfuscation-example"
    assert spec.paths == ("**",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VALID + "owner: someone\n", "owner"),
        (VALID.replace("severity: high", "severity: severe"), "severity"),
        (VALID.replace("confidence: 0.5", "confidence: 1.5"), "confidence"),
        (VALID.replace("ecosystems: [pypi]", "ecosystems: [rubygems]"), "ecosystems"),
        (VALID.replace("ecosystems: [pypi]", "ecosystems: []"), "ecosystems"),
        (VALID.replace("engine: python-ast", "engine: yara"), "no engine"),
        (VALID.replace("call: [exec]", "calls: [exec]"), "invalid match"),
        (VALID.replace("call: [exec]", "string: ['(']"), "invalid match"),
        (VALID + "title: Again\n", "duplicate keys"),
        (VALID.replace("id: obfuscation-example", "id: Obfuscation_Example"), "id"),
        ("- just\n- a list\n", "RuleSpec"),
    ],
)
def test_load_rules_malformed_file_rejected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RuleFileError, match=message):
        load_rules(write_rule(tmp_path, text))


def test_load_rules_file_name_must_equal_id(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="must be rules/obfuscation/obfuscation-example"):
        load_rules(write_rule(tmp_path, VALID, name="obfuscation-other"))


def test_load_rules_id_must_start_with_category(tmp_path: Path) -> None:
    text = VALID.replace("category: obfuscation", "category: archive")
    with pytest.raises(RuleFileError, match="must start with its category"):
        load_rules(write_rule(tmp_path, text, category="archive"))


def test_load_rules_archive_rules_take_no_match(tmp_path: Path) -> None:
    text = VALID.replace("engine: python-ast", "engine: archive")
    with pytest.raises(RuleFileError, match="take no `match`"):
        load_rules(write_rule(tmp_path, text))


def test_render_rules_markdown_lists_every_rule(rules: tuple[RuleSpec, ...]) -> None:
    document = render_rules_markdown(rules)
    for spec in rules:
        assert f"| `{spec.id}` |" in document
        assert f"## `{spec.id}`" in document
