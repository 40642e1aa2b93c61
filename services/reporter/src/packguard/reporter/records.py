"""The rows a report becomes: one ``results`` row and one ``findings`` row per finding."""

from __future__ import annotations

from dataclasses import dataclass

from packguard.common.report import AnalysisReport

SNIPPET_MAX_CHARS = 1000


@dataclass(frozen=True, slots=True)
class FindingRecord:
    ordinal: int
    rule_id: str
    title: str
    severity: str
    confidence: float
    category: str
    file: str | None
    line: int | None
    snippet: str | None


def finding_records(report: AnalysisReport) -> list[FindingRecord]:
    """Findings in report order; location and snippet come from the first evidence."""
    records = []
    for ordinal, finding in enumerate(report.findings):
        evidence = finding.evidence[0] if finding.evidence else None
        records.append(
            FindingRecord(
                ordinal=ordinal,
                rule_id=finding.rule_id,
                title=finding.title,
                severity=finding.severity.value,
                confidence=finding.confidence,
                category=finding.category,
                file=evidence.file if evidence else None,
                line=evidence.line if evidence else None,
                snippet=excerpt(evidence.snippet, SNIPPET_MAX_CHARS) if evidence else None,
            )
        )
    return records


def excerpt(text: str | None, limit: int) -> str | None:
    """``text`` cut to at most ``limit`` characters, marked with an ellipsis when cut."""
    if text is None or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"
