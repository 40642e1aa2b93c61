"""SARIF 2.1.0 export of an analysis report, for code-scanning tools and CI annotations.

Pure: a report in, a SARIF log (plain JSON-able dict) out. Static findings point at a
file and line inside the artifact; dynamic ones at a logical location ``phase/syscall``.
"""

from __future__ import annotations

from typing import Any

from packguard.common.report import AnalysisReport, Evidence, Finding, Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning orders results by this 0.0 to 10.0 number.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def report_to_sarif(report: AnalysisReport) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    for finding in report.findings:
        rules.setdefault(finding.rule_id, _rule(finding))
    rule_ids = list(rules)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "packguard",
                        "version": report.analyzer_version,
                        "rules": list(rules.values()),
                    }
                },
                "artifacts": [
                    {
                        "location": {"uri": artifact.filename},
                        "length": artifact.size_bytes,
                        "hashes": {"sha-256": artifact.sha256},
                    }
                    for artifact in report.artifacts
                ],
                "results": [
                    _result(finding, rule_ids.index(finding.rule_id)) for finding in report.findings
                ],
                "properties": {
                    "package": report.package.model_dump(),
                    "verdict": report.verdict.model_dump(mode="json"),
                },
            }
        ],
    }


def _rule(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.rule_id,
        "name": finding.rule_id,
        "shortDescription": {"text": finding.title},
        "defaultConfiguration": {"level": _LEVELS[finding.severity]},
        "properties": {
            "category": finding.category,
            "severity": finding.severity.value,
            "security-severity": _SECURITY_SEVERITY[finding.severity],
            "tags": ["security", finding.category],
        },
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.title},
        "properties": {"confidence": finding.confidence, "category": finding.category},
    }
    locations = [_location(evidence) for evidence in finding.evidence]
    if locations:
        result["locations"] = locations
    return result


def _location(evidence: Evidence) -> dict[str, Any]:
    snippet = {"snippet": {"text": evidence.snippet}} if evidence.snippet else {}
    if evidence.file:
        region: dict[str, Any] = {"startLine": evidence.line} if evidence.line else {}
        region |= snippet
        physical: dict[str, Any] = {"artifactLocation": {"uri": evidence.file}}
        if region:
            physical["region"] = region
        return {"physicalLocation": physical}
    name = "/".join(part for part in (evidence.phase, evidence.syscall) if part) or "dynamic"
    location: dict[str, Any] = {"logicalLocations": [{"name": name, "kind": "function"}]}
    if evidence.snippet:
        location["message"] = {"text": evidence.snippet}
    return location
