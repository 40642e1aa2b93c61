"""The verdict table: capability alone stays low, combinations climb."""

from __future__ import annotations

import pytest

from packguard.analyzer.scoring import score_findings
from packguard.common.report import Finding, Severity, VerdictLabel

INSTALL_SCRIPT = ("install-hook-npm-script", Severity.LOW, 1.0, "install-hook")
INLINE_CODE = ("install-hook-npm-inline-code", Severity.LOW, 0.6, "install-hook")
SETUP_COMMAND = ("install-hook-setup-py-command", Severity.MEDIUM, 0.6, "install-hook")
PIPE_SHELL = ("remote-code-npm-script-pipe-shell", Severity.HIGH, 0.8, "remote-code")
EXEC_DECODED = ("obfuscation-exec-decoded", Severity.HIGH, 0.9, "obfuscation")
EXEC_DOWNLOAD = ("remote-code-python-exec-download", Severity.CRITICAL, 0.9, "remote-code")
SECRETS = ("credential-access-secret-files", Severity.MEDIUM, 0.5, "credential-access")
MALFORMED = ("archive-malformed", Severity.INFO, 1.0, "archive")
UNSAFE_ENTRY = ("archive-unsafe-entry", Severity.HIGH, 1.0, "archive")


def finding(rule_id: str, severity: Severity, confidence: float, category: str) -> Finding:
    return Finding(
        rule_id=rule_id, title=rule_id, severity=severity, confidence=confidence, category=category
    )


@pytest.mark.parametrize(
    ("findings", "label", "score"),
    [
        ([], VerdictLabel.BENIGN, 0.0),
        ([MALFORMED], VerdictLabel.BENIGN, 0.0),
        ([INSTALL_SCRIPT], VerdictLabel.LOW, 1.0),
        ([INSTALL_SCRIPT, INLINE_CODE], VerdictLabel.LOW, 1.3),
        ([INSTALL_SCRIPT, INLINE_CODE, SETUP_COMMAND], VerdictLabel.LOW, 2.6),
        ([SECRETS], VerdictLabel.LOW, 1.5),
        ([SETUP_COMMAND, SECRETS], VerdictLabel.SUSPICIOUS, 4.0),
        ([EXEC_DECODED], VerdictLabel.SUSPICIOUS, 5.4),
        ([UNSAFE_ENTRY], VerdictLabel.SUSPICIOUS, 6.0),
        ([INSTALL_SCRIPT, PIPE_SHELL], VerdictLabel.SUSPICIOUS, 6.8),
        ([SETUP_COMMAND, EXEC_DECODED], VerdictLabel.MALICIOUS, 7.8),
        ([EXEC_DOWNLOAD], VerdictLabel.MALICIOUS, 8.1),
        (
            [INSTALL_SCRIPT, PIPE_SHELL, EXEC_DECODED, SECRETS, EXEC_DOWNLOAD],
            VerdictLabel.MALICIOUS,
            10.0,
        ),
    ],
)
def test_score_findings_table(
    findings: list[tuple[str, Severity, float, str]], label: VerdictLabel, score: float
) -> None:
    verdict = score_findings([finding(*f) for f in findings])
    assert (verdict.label, verdict.score) == (label, score)


def test_score_findings_capability_never_exceeds_low() -> None:
    many = [finding(f"install-hook-{i}", Severity.CRITICAL, 1.0, "install-hook") for i in range(9)]
    assert score_findings(many).label == VerdictLabel.LOW


def test_score_findings_more_categories_never_lower_the_score() -> None:
    base = [finding(*EXEC_DECODED)]
    more = [*base, finding(*SECRETS)]
    assert score_findings(more).score >= score_findings(base).score


def test_score_findings_summary_names_rules() -> None:
    verdict = score_findings([finding(*EXEC_DECODED), finding(*SECRETS)])
    assert "obfuscation-exec-decoded" in verdict.summary
