"""Findings to a verdict: a pure decision.

- Each finding weighs ``SEVERITY_WEIGHT[severity] * confidence``.
- The score is the heaviest finding plus half of the next two (repeats add little),
  plus ``COMBINATION_BONUS`` per extra category present (an install hook *and*
  obfuscation says more than either), capped at 10.
- Capability alone is not intent: when every finding is in a capability category (an
  install script, a command in setup.py), the score stays within ``low``.
"""

from __future__ import annotations

from collections.abc import Sequence

from packguard.common.report import Finding, Severity, Verdict, VerdictLabel

SEVERITY_WEIGHT: dict[Severity, float] = {
    Severity.INFO: 0.0,
    Severity.LOW: 1.0,
    Severity.MEDIUM: 3.0,
    Severity.HIGH: 6.0,
    Severity.CRITICAL: 9.0,
}
CAPABILITY_CATEGORIES = frozenset({"install-hook"})
COMBINATION_BONUS = 1.5
MAX_COMBINATION_BONUS = 3.0
# Lower bounds of each label, highest first.
LABEL_FLOORS: tuple[tuple[float, VerdictLabel], ...] = (
    (7.0, VerdictLabel.MALICIOUS),
    (4.0, VerdictLabel.SUSPICIOUS),
    (1.0, VerdictLabel.LOW),
    (0.0, VerdictLabel.BENIGN),
)
CAPABILITY_CEILING = 3.9
MAX_SCORE = 10.0


def label_for(score: float) -> VerdictLabel:
    return next(label for floor, label in LABEL_FLOORS if score >= floor)


def score_findings(findings: Sequence[Finding]) -> Verdict:
    weighted = [f for f in findings if SEVERITY_WEIGHT[f.severity] * f.confidence > 0]
    if not weighted:
        return Verdict(label=VerdictLabel.BENIGN, score=0.0, summary=_summary(findings))
    weights = sorted((SEVERITY_WEIGHT[f.severity] * f.confidence for f in weighted), reverse=True)
    score = weights[0] + 0.5 * sum(weights[1:3])
    categories = {f.category for f in weighted}
    score += min(COMBINATION_BONUS * (len(categories) - 1), MAX_COMBINATION_BONUS)
    if categories <= CAPABILITY_CATEGORIES:
        score = min(score, CAPABILITY_CEILING)
    score = round(min(score, MAX_SCORE), 1)
    return Verdict(label=label_for(score), score=score, summary=_summary(findings))


def _summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no findings"
    ids = ", ".join(f.rule_id for f in findings[:5])
    more = f" and {len(findings) - 5} more" if len(findings) > 5 else ""
    return f"{len(findings)} finding(s): {ids}{more}"
