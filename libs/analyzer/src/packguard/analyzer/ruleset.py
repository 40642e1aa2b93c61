"""The rule set: specs checked against their engines, run over a tree, turned into findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable

from packguard.analyzer.engines import ENGINES, Hit, ScanContext
from packguard.analyzer.engines.base import MAX_EVIDENCE_PER_FINDING
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleFileError, RuleSpec, read_rule_specs
from packguard.common.report import Evidence, Finding, Severity

_SEVERITY_ORDER = list(Severity)


def load_rules(root: Traversable | None = None) -> tuple[RuleSpec, ...]:
    """Every rule file, each validated by its engine. Raises ``RuleFileError``."""
    specs = read_rule_specs(root)
    for spec in specs:
        engine = ENGINES.get(spec.engine)
        if engine is None:
            raise RuleFileError(f"{spec.id}: no engine named {spec.engine!r}")
        try:
            engine.validate(spec)
        except ValueError as error:
            raise RuleFileError(f"{spec.id}: invalid match: {error}") from error
    return specs


@dataclass
class StaticResult:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_rules(
    specs: Sequence[RuleSpec],
    files: Sequence[TreeFile],
    ecosystem: str,
    declared_name: str | None = None,
) -> StaticResult:
    """Every rule of ``ecosystem`` over ``files``; ``declared_name`` is the name the package
    was submitted under (metadata rules compare it with the artifact's own)."""
    context = ScanContext(ecosystem, declared_name)
    by_engine: dict[str, list[RuleSpec]] = defaultdict(list)
    for spec in specs:
        if ecosystem in spec.ecosystems:
            by_engine[spec.engine].append(spec)
    hits: list[Hit] = []
    result = StaticResult()
    for name in sorted(by_engine):
        scanned = ENGINES[name].scan(files, by_engine[name], context)
        hits.extend(scanned.hits)
        result.notes.extend(scanned.notes)
    result.findings = findings_from_hits(specs, hits)
    return result


def findings_from_hits(
    specs: Sequence[RuleSpec], hits: Iterable[Hit], *, phase: str = "static"
) -> list[Finding]:
    """One finding per rule that hit, its evidence deduplicated, ordered and capped."""
    by_id = {spec.id: spec for spec in specs}
    grouped: dict[str, dict[tuple[str, int], Hit]] = defaultdict(dict)
    for hit in hits:
        grouped[hit.rule_id].setdefault((hit.file or "", hit.line or 0), hit)
    findings = []
    for rule_id, unique in grouped.items():
        spec = by_id[rule_id]
        evidence = [
            Evidence(file=hit.file, line=hit.line, snippet=hit.snippet, phase=phase)
            for _, hit in sorted(unique.items())[:MAX_EVIDENCE_PER_FINDING]
        ]
        findings.append(
            Finding(
                rule_id=spec.id,
                title=spec.title,
                severity=spec.severity,
                confidence=spec.confidence,
                category=spec.category,
                evidence=evidence,
            )
        )
    return sorted(findings, key=lambda f: (-_SEVERITY_ORDER.index(f.severity), f.rule_id))
