"""Tables for the reporter's pure parts: which events apply, report rows, metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from prometheus_client import CollectorRegistry

from packguard.common.messages import EventKind, TaskStatus
from packguard.common.report import AnalysisReport
from packguard.reporter.metrics import ReporterMetrics
from packguard.reporter.notify import TaskFinished
from packguard.reporter.records import SNIPPET_MAX_CHARS, excerpt, finding_records
from packguard.reporter.transitions import Decision, event_decision

S = TaskStatus
D = Decision


@pytest.mark.parametrize(
    ("kind", "status", "task_attempt", "event_attempt", "expected"),
    [
        ("running", S.QUEUED, 1, 1, D.APPLY),
        ("running", S.DELAYED, 1, 1, D.APPLY),
        ("running", S.RUNNING, 1, 1, D.APPLY),
        ("running", S.QUEUED, 2, 1, D.STALE_ATTEMPT),
        ("running", S.RUNNING, 1, 2, D.STALE_ATTEMPT),
        ("running", S.COMPLETED, 1, 1, D.ALREADY_FINAL),
        ("running", S.CANCELLED, 1, 1, D.ALREADY_FINAL),
        ("running", None, 0, 1, D.UNKNOWN_TASK),
        ("phase", S.RUNNING, 1, 1, D.APPLY),
        ("phase", S.RUNNING, 2, 1, D.STALE_ATTEMPT),
        ("phase", S.FAILED, 1, 1, D.ALREADY_FINAL),
        ("completed", S.RUNNING, 1, 1, D.APPLY),
        ("completed", S.QUEUED, 1, 1, D.APPLY),
        ("completed", S.RUNNING, 2, 1, D.APPLY),
        ("completed", S.COMPLETED, 1, 1, D.ALREADY_FINAL),
        ("completed", S.FAILED, 1, 1, D.ALREADY_FINAL),
        ("completed", S.CANCELLED, 1, 1, D.ALREADY_FINAL),
        ("failed", S.RUNNING, 3, 3, D.APPLY),
        ("failed", S.PENDING, 0, 1, D.APPLY),
        ("failed", S.COMPLETED, 1, 1, D.ALREADY_FINAL),
        ("failed", None, 0, 1, D.UNKNOWN_TASK),
        ("queued", S.PENDING, 0, 1, D.NOT_RECORDED),
        ("delayed", S.PENDING, 0, 1, D.NOT_RECORDED),
        ("cancelled", S.RUNNING, 1, 1, D.NOT_RECORDED),
    ],
)
def test_event_decision_kind_and_row_give_decision(
    kind: EventKind,
    status: TaskStatus | None,
    task_attempt: int,
    event_attempt: int,
    expected: Decision,
) -> None:
    decision = event_decision(
        kind, status=status, task_attempt=task_attempt, event_attempt=event_attempt
    )
    assert decision is expected


REPORT = AnalysisReport.model_validate(
    {
        "analyzer_version": "1.2.3",
        "package": {"ecosystem": "pypi", "name": "six", "version": "1.16.0"},
        "artifacts": [{"filename": "six-1.16.0.tar.gz", "size_bytes": 10, "sha256": "ab" * 32}],
        "verdict": {"label": "suspicious", "score": 6.5, "summary": "network at import"},
        "findings": [
            {
                "rule_id": "network-connect-at-import",
                "title": "Connects out at import",
                "severity": "high",
                "confidence": 0.9,
                "category": "network",
                "evidence": [
                    {"file": "six.py", "line": 3, "snippet": "x" * 5000},
                    {"file": "other.py", "line": 9},
                ],
            },
            {
                "rule_id": "metadata-no-evidence",
                "title": "t",
                "severity": "info",
                "confidence": 0.1,
                "category": "metadata",
            },
        ],
    }
)


def test_finding_records_first_evidence_and_capped_snippet() -> None:
    first, second = finding_records(REPORT)
    assert (first.ordinal, first.rule_id, first.severity, first.file, first.line) == (
        0,
        "network-connect-at-import",
        "high",
        "six.py",
        3,
    )
    assert first.snippet is not None and len(first.snippet) == SNIPPET_MAX_CHARS
    assert first.snippet.endswith("…")
    assert (second.ordinal, second.file, second.line, second.snippet) == (1, None, None, None)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        (None, 5, None),
        ("", 5, ""),
        ("abcde", 5, "abcde"),
        ("abcdef", 5, "abcd…"),
        ("abcdef", 1, "…"),
    ],
)
def test_excerpt_long_text_is_cut_with_marker(
    text: str | None, limit: int, expected: str | None
) -> None:
    assert excerpt(text, limit) == expected


def test_reporter_metrics_observe_finished_counts_and_times() -> None:
    registry = CollectorRegistry()
    metrics = ReporterMetrics(registry)
    finished_at = datetime(2026, 1, 1, tzinfo=UTC)
    completed = TaskFinished(
        uuid4(), TaskStatus.COMPLETED, finished_at, verdict_label="benign", verdict_score=0.0
    )
    failed = TaskFinished(uuid4(), TaskStatus.FAILED, finished_at, error_category="timeout")

    metrics.observe_finished(completed, finished_at - timedelta(seconds=42))
    metrics.observe_finished(failed, None)

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    total = "packguard_reporter_tasks_finished_total"
    assert sample(total, status="completed", verdict="benign") == 1
    assert sample(total, status="failed", verdict="none") == 1
    assert sample("packguard_reporter_analysis_duration_seconds_count") == 1
    assert sample("packguard_reporter_analysis_duration_seconds_sum") == 42
