"""The ``archive`` engine: findings for artifacts the extractor refused.

Its rules match nothing in a tree; they exist so every rejection is a documented finding
code. Each ``ArchiveRejected`` class names the rule it maps to (``rule_id``).
"""

from __future__ import annotations

from collections.abc import Sequence

from packguard.analyzer.engines.base import EngineResult, Hit, ScanContext, cap_snippet
from packguard.analyzer.errors import ArchiveRejected
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec


class ArchiveEngine:
    def validate(self, spec: RuleSpec) -> None:
        if spec.match:
            raise ValueError("archive rules take no `match`")

    def scan(
        self, files: Sequence[TreeFile], specs: Sequence[RuleSpec], context: ScanContext
    ) -> EngineResult:
        return EngineResult()


def rejection_hit(error: ArchiveRejected, artifact: str) -> Hit:
    """The hit for a refused artifact: the offending member, or the artifact itself."""
    return Hit(error.rule_id, error.member or artifact, None, cap_snippet(f"{error.code}: {error}"))
