"""docs/RULES.md is generated from the rule files; a stale copy fails here."""

from __future__ import annotations

from pathlib import Path

from packguard.analyzer.ruledocs import render_rules_markdown
from packguard.analyzer.rulespec import RuleSpec

RULES_MD = Path(__file__).resolve().parents[3] / "docs" / "RULES.md"


def test_rules_md_is_up_to_date(rules: tuple[RuleSpec, ...]) -> None:
    assert RULES_MD.read_text("utf-8") == render_rules_markdown(rules), (
        "docs/RULES.md is stale: python -m packguard.analyzer.ruledocs > docs/RULES.md"
    )
