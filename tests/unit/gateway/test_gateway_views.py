"""Task rows to response models."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

from packguard.common.messages import TaskStatus
from packguard.common.purl import parse_purl
from packguard.gateway.tasks import TaskRecord
from packguard.gateway.views import (
    task_accepted,
    task_links,
    task_summary,
    task_view,
    verdict_of,
)

BASE = "http://gw.test"


def _record(**changes: object) -> TaskRecord:
    package = parse_purl("pkg:pypi/six@1.16.0")
    record = TaskRecord(
        id=uuid4(),
        api_key_id=uuid4(),
        purl=package.purl,
        package=package,
        priority=0,
        status=TaskStatus.QUEUED,
        phase=None,
        attempts=1,
        timeout_minutes=30,
        not_before=None,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        started_at=None,
        finished_at=None,
        error_category=None,
        error_message=None,
        verdict_label=None,
        verdict_score=None,
        stored_report_key=None,
        analyzer_version=None,
        queue_stream=None,
        queue_seq=None,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def test_task_links_point_at_status_and_report() -> None:
    task_id = uuid4()

    links = task_links(BASE, task_id)

    assert links.status == f"{BASE}/api/v1/task/{task_id}/"
    assert links.report == f"{BASE}/api/v1/task/{task_id}/report/"


def test_verdict_of_known_label() -> None:
    verdict = verdict_of(_record(verdict_label="malicious", verdict_score=9.25))

    assert verdict is not None and verdict.label.value == "malicious" and verdict.score == 9.25


def test_verdict_of_missing_or_unknown_label_is_none() -> None:
    assert verdict_of(_record()) is None
    assert verdict_of(_record(verdict_label="weird")) is None


def test_task_view_carries_error_and_position() -> None:
    record = _record(status=TaskStatus.FAILED, error_category="timeout", error_message=None)

    view = task_view(record, BASE, queue_position=None)

    assert view.error is not None and view.error.category == "timeout"
    assert view.error.message == ""
    assert view.ecosystem.value == "pypi" and view.queue_position is None


def test_task_accepted_links_match_view_links() -> None:
    record = _record()

    accepted = task_accepted(record, BASE, "deduplicated")

    assert accepted.status_url == task_view(record, BASE, queue_position=3).links.status
    assert accepted.outcome == "deduplicated"


def test_record_report_key_defaults_to_the_deterministic_key() -> None:
    record = _record()

    assert record.report_key == f"reports/pypi/six/1.16.0/{record.id}.json"
    assert _record(stored_report_key="elsewhere.json").report_key == "elsewhere.json"


def test_task_view_carries_the_summary_fields() -> None:
    record = _record(verdict_label="benign", verdict_score=0.5, status=TaskStatus.COMPLETED)

    view = task_view(record, BASE, queue_position=None).model_dump()

    assert task_summary(record, BASE).model_dump().items() <= view.items()
