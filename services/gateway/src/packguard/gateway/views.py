"""Task rows to response models (pure)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from packguard.common.api import (
    API_PREFIX,
    SubmitOutcome,
    TaskAccepted,
    TaskError,
    TaskLinks,
    TaskSummary,
    TaskView,
    VerdictSummary,
)
from packguard.common.report import VerdictLabel
from packguard.gateway.tasks import TaskRecord


def task_links(base_url: str, task_id: UUID) -> TaskLinks:
    status = f"{base_url}{API_PREFIX}/task/{task_id}/"
    return TaskLinks(status=status, report=f"{status}report/")


_VERDICT_LABELS = frozenset(label.value for label in VerdictLabel)


def verdict_of(record: TaskRecord) -> VerdictSummary | None:
    if record.verdict_label not in _VERDICT_LABELS:
        return None
    return VerdictSummary(
        label=VerdictLabel(record.verdict_label), score=float(record.verdict_score or 0.0)
    )


def _summary_fields(record: TaskRecord, base_url: str) -> dict[str, Any]:
    """What a summary and a view share, as model instances: a view built from a
    summary's ``model_dump()`` would validate the nested models a second time."""
    return {
        "task_id": record.id,
        "purl": record.purl,
        "ecosystem": record.package.ecosystem,
        "status": record.status,
        "verdict": verdict_of(record),
        "created_at": record.created_at,
        "finished_at": record.finished_at,
        "links": task_links(base_url, record.id),
    }


def task_summary(record: TaskRecord, base_url: str) -> TaskSummary:
    return TaskSummary(**_summary_fields(record, base_url))


def task_view(record: TaskRecord, base_url: str, *, queue_position: int | None) -> TaskView:
    error = None
    if record.error_category is not None:
        error = TaskError(category=record.error_category, message=record.error_message or "")
    return TaskView(
        **_summary_fields(record, base_url),
        phase=record.phase,
        priority=record.priority,
        queue_position=queue_position,
        attempts=record.attempts,
        not_before=record.not_before,
        started_at=record.started_at,
        error=error,
    )


def task_accepted(record: TaskRecord, base_url: str, outcome: SubmitOutcome) -> TaskAccepted:
    links = task_links(base_url, record.id)
    return TaskAccepted(
        task_id=record.id,
        status=record.status,
        outcome=outcome,
        status_url=links.status,
        report_url=links.report,
    )
