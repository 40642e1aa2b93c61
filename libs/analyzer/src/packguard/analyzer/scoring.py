"""Findings to a verdict: a pure decision.

- Each finding weighs ``SEVERITY_WEIGHT[severity] * confidence``.
- The score is the heaviest finding plus half of the next two (repeats add little), plus
  ``COMBINATION_BONUS`` per extra *signal* category (obfuscation *and* credential access
  says more than either). Capability categories (an install script, a shell command, a
  URL) add no bonus: every popular package has some.
- Some combinations are intent whatever their weights (``COMBINATIONS``): code run at
  install plus remote code, exfiltration, a backdoor, persistence or an obfuscated
  payload; credential access plus an exfiltration endpoint. Each raises the score to
  its floor and is named in the summary.
- Capability alone is not intent: when every finding is a capability, the score stays
  within ``low``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packguard.common.report import Finding, Severity, Verdict, VerdictLabel

SEVERITY_WEIGHT: dict[Severity, float] = {
    Severity.INFO: 0.0,
    Severity.LOW: 1.0,
    Severity.MEDIUM: 3.0,
    Severity.HIGH: 6.0,
    Severity.CRITICAL: 9.0,
}
CAPABILITY_CATEGORIES = frozenset({"install-hook", "process", "indicator"})
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
_SEVERITY_ORDER = list(Severity)


@dataclass(frozen=True)
class Combination:
    """Findings of all ``needs`` categories (each at ``min_severity`` or worse) together
    lift the score to at least ``floor``."""

    needs: tuple[str, ...]
    min_severity: Severity
    floor: float
    reason: str


_INTENT = ("remote-code", "exfiltration", "backdoor", "persistence", "miner", "execution")
_HIGH, _MEDIUM = Severity.HIGH, Severity.MEDIUM
COMBINATIONS: tuple[Combination, ...] = (
    *(
        Combination(("install-hook", category), _HIGH, 7.5, f"install hook + {category}")
        for category in _INTENT
    ),
    Combination(("install-hook", "obfuscation"), _HIGH, 7.5, "obfuscated code run at install"),
    Combination(("install-hook", "obfuscation"), _MEDIUM, 4.5, "install hook + obfuscation"),
    Combination(("install-hook", "metadata"), _MEDIUM, 4.5, "typosquat with install hook"),
    Combination(("credential-access", "indicator"), _MEDIUM, 5.0, "credentials + exfil endpoint"),
    Combination(("obfuscation", "remote-code"), _HIGH, 8.0, "obfuscated remote code"),
)


def label_for(score: float) -> VerdictLabel:
    return next(label for floor, label in LABEL_FLOORS if score >= floor)


def weight(finding: Finding) -> float:
    return SEVERITY_WEIGHT[finding.severity] * finding.confidence


def _at_least(finding: Finding, severity: Severity) -> bool:
    return _SEVERITY_ORDER.index(finding.severity) >= _SEVERITY_ORDER.index(severity)


def matched_combinations(findings: Sequence[Finding]) -> list[Combination]:
    return [
        combination
        for combination in COMBINATIONS
        if all(
            any(f.category == need and _at_least(f, combination.min_severity) for f in findings)
            # The install hook itself may be low: needing one at all is the point.
            or (need == "install-hook" and any(f.category == need for f in findings))
            for need in combination.needs
        )
    ]


def score_findings(findings: Sequence[Finding]) -> Verdict:
    weighted = [f for f in findings if weight(f) > 0]
    if not weighted:
        return Verdict(label=VerdictLabel.BENIGN, score=0.0, summary=_summary(findings, []))
    weights = sorted((weight(f) for f in weighted), reverse=True)
    score = weights[0] + 0.5 * sum(weights[1:3])
    categories = {f.category for f in weighted}
    signals = categories - CAPABILITY_CATEGORIES
    if len(signals) > 1:
        score += min(COMBINATION_BONUS * (len(signals) - 1), MAX_COMBINATION_BONUS)
    combinations = matched_combinations(weighted)
    for combination in combinations:
        score = max(score, combination.floor)
    if not signals:
        score = min(score, CAPABILITY_CEILING)
    score = round(min(score, MAX_SCORE), 1)
    return Verdict(label=label_for(score), score=score, summary=_summary(findings, combinations))


def _summary(findings: Sequence[Finding], combinations: Sequence[Combination]) -> str:
    if not findings:
        return "no findings"
    ids = ", ".join(f.rule_id for f in findings[:5])
    more = f" and {len(findings) - 5} more" if len(findings) > 5 else ""
    text = f"{len(findings)} finding(s): {ids}{more}"
    if combinations:
        text += "; combined: " + ", ".join(c.reason for c in combinations)
    return text
