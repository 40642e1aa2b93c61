"""The verdict table: capability alone stays low, combinations climb."""

from __future__ import annotations

import pytest

from packguard.analyzer.ruleset import load_rules
from packguard.analyzer.scoring import CAPABILITY_CATEGORIES, score_findings
from packguard.common.report import Finding, Severity, VerdictLabel

Row = tuple[str, Severity, float, str]
SPECS = {spec.id: spec for spec in load_rules()}


def rule(rule_id: str) -> Row:
    """The rule's own severity, confidence and category, so the table follows the specs."""
    spec = SPECS[rule_id]
    return (spec.id, spec.severity, spec.confidence, spec.category)


INSTALL_SCRIPT = rule("install-hook-npm-script")
INLINE_CODE = rule("install-hook-npm-inline-code")
SETUP_COMMAND = rule("install-hook-setup-py-command")
CMDCLASS = rule("install-hook-setup-py-cmdclass")
SHELL_COMMAND = rule("process-js-shell-command")
URL = rule("indicator-url")
IP = rule("indicator-ip-address")
ENDPOINT = rule("indicator-exfil-endpoint")
BLOB = rule("obfuscation-js-encoded-blob")
STRING_ARRAY = rule("obfuscation-js-string-array")
MINIFIED_INSTALL = rule("obfuscation-js-minified-install-script")
PIPE_SHELL = rule("remote-code-npm-script-pipe-shell")
EXEC_DECODED = rule("obfuscation-exec-decoded")
EXEC_DOWNLOAD = rule("remote-code-python-exec-download")
SECRETS = rule("credential-access-secret-files")
SECRETS_SENT = rule("exfiltration-js-secrets-sent")
HOST_INFO_SENT = rule("exfiltration-python-host-info-sent")
PERSISTENCE = rule("persistence-python-autostart")
MINER = rule("miner-pool-indicator")
SILENT_SHELL = rule("execution-python-silent-shell")
TYPOSQUAT = rule("metadata-typosquat")
MALFORMED = rule("archive-malformed")
UNSAFE_ENTRY = rule("archive-unsafe-entry")


def finding(rule_id: str, severity: Severity, confidence: float, category: str) -> Finding:
    return Finding(
        rule_id=rule_id, title=rule_id, severity=severity, confidence=confidence, category=category
    )


@pytest.mark.parametrize(
    ("findings", "label", "score"),
    [
        # Nothing, or nothing that weighs.
        ([], VerdictLabel.BENIGN, 0.0),
        ([MALFORMED], VerdictLabel.BENIGN, 0.0),
        ([URL], VerdictLabel.BENIGN, 0.0),
        # Capability alone: install hooks, shell commands, URLs, IPs stay low.
        ([INSTALL_SCRIPT], VerdictLabel.LOW, 1.0),
        ([INSTALL_SCRIPT, INLINE_CODE, SETUP_COMMAND], VerdictLabel.LOW, 2.6),
        ([CMDCLASS, SETUP_COMMAND, SHELL_COMMAND, URL, IP], VerdictLabel.LOW, 2.4),
        # One weak signal, or a signal beside capabilities: low.
        ([SECRETS], VerdictLabel.LOW, 1.5),
        ([BLOB, INSTALL_SCRIPT, SHELL_COMMAND], VerdictLabel.LOW, 1.4),
        ([SETUP_COMMAND, SECRETS], VerdictLabel.LOW, 2.5),
        ([TYPOSQUAT], VerdictLabel.LOW, 1.8),
        ([SILENT_SHELL, SETUP_COMMAND], VerdictLabel.LOW, 3.0),
        # One strong signal: suspicious.
        ([EXEC_DECODED], VerdictLabel.SUSPICIOUS, 5.4),
        ([UNSAFE_ENTRY], VerdictLabel.SUSPICIOUS, 6.0),
        ([PERSISTENCE], VerdictLabel.SUSPICIOUS, 4.8),
        ([MINER], VerdictLabel.SUSPICIOUS, 5.1),
        ([HOST_INFO_SENT], VerdictLabel.SUSPICIOUS, 4.5),
        # Combinations that are intent.
        ([INSTALL_SCRIPT, PIPE_SHELL], VerdictLabel.MALICIOUS, 7.5),
        ([INSTALL_SCRIPT, HOST_INFO_SENT], VerdictLabel.MALICIOUS, 7.5),
        ([INSTALL_SCRIPT, MINER], VerdictLabel.MALICIOUS, 7.5),
        ([SETUP_COMMAND, EXEC_DECODED], VerdictLabel.MALICIOUS, 7.5),
        ([INSTALL_SCRIPT, MINIFIED_INSTALL], VerdictLabel.SUSPICIOUS, 4.5),
        ([INSTALL_SCRIPT, STRING_ARRAY], VerdictLabel.SUSPICIOUS, 4.5),
        ([INSTALL_SCRIPT, TYPOSQUAT], VerdictLabel.SUSPICIOUS, 4.5),
        ([SECRETS, ENDPOINT], VerdictLabel.SUSPICIOUS, 5.0),
        ([STRING_ARRAY, SECRETS], VerdictLabel.SUSPICIOUS, 4.7),
        # Intent on its own.
        ([EXEC_DOWNLOAD], VerdictLabel.MALICIOUS, 8.1),
        ([SECRETS_SENT], VerdictLabel.MALICIOUS, 8.1),
        (
            [INSTALL_SCRIPT, PIPE_SHELL, EXEC_DECODED, SECRETS, EXEC_DOWNLOAD],
            VerdictLabel.MALICIOUS,
            10.0,
        ),
    ],
)
def test_score_findings_table(findings: list[Row], label: VerdictLabel, score: float) -> None:
    verdict = score_findings([finding(*f) for f in findings])
    assert (verdict.label, verdict.score) == (label, score)


def test_score_findings_capability_never_exceeds_low() -> None:
    many = [
        finding(f"{category}-{i}", Severity.CRITICAL, 1.0, category)
        for i in range(3)
        for category in sorted(CAPABILITY_CATEGORIES)
    ]
    assert score_findings(many).label == VerdictLabel.LOW


def test_score_findings_more_categories_never_lower_the_score() -> None:
    base = [finding(*EXEC_DECODED)]
    more = [*base, finding(*SECRETS)]
    assert score_findings(more).score >= score_findings(base).score


def test_score_findings_summary_names_rules_and_combinations() -> None:
    verdict = score_findings([finding(*INSTALL_SCRIPT), finding(*PIPE_SHELL)])
    assert "remote-code-npm-script-pipe-shell" in verdict.summary
    assert "install hook + remote-code" in verdict.summary
