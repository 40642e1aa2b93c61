"""Exit codes: the verdict decides, failures are 3."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from packguard.cli.exit_codes import EXIT_CODES_HELP, exit_code_for_task, exit_code_for_verdict
from packguard.common.api import TaskLinks, TaskView, VerdictSummary
from packguard.common.messages import TaskStatus
from packguard.common.purl import Ecosystem
from packguard.common.report import VerdictLabel


def _task(status: TaskStatus, label: VerdictLabel | None = None) -> TaskView:
    return TaskView(
        task_id=uuid4(),
        purl="pkg:pypi/six@1.16.0",
        ecosystem=Ecosystem.PYPI,
        status=status,
        verdict=VerdictSummary(label=label, score=1.0) if label else None,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        finished_at=None,
        links=TaskLinks(status="s", report="r"),
        phase=None,
        priority=0,
        queue_position=None,
        attempts=1,
        not_before=None,
        started_at=None,
        error=None,
    )


@pytest.mark.parametrize(
    ("label", "code"),
    [
        (VerdictLabel.BENIGN, 0),
        (VerdictLabel.LOW, 0),
        (VerdictLabel.SUSPICIOUS, 1),
        (VerdictLabel.MALICIOUS, 2),
    ],
)
def test_exit_code_for_verdict_table(label: VerdictLabel, code: int) -> None:
    assert exit_code_for_verdict(label) == code
    assert exit_code_for_task(_task(TaskStatus.COMPLETED, label)) == code


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (TaskStatus.PENDING, 0),
        (TaskStatus.QUEUED, 0),
        (TaskStatus.DELAYED, 0),
        (TaskStatus.RUNNING, 0),
        (TaskStatus.FAILED, 3),
        (TaskStatus.CANCELLED, 3),
        (TaskStatus.COMPLETED, 3),  # completed without a verdict: nothing to vouch for
    ],
)
def test_exit_code_for_task_without_verdict(status: TaskStatus, code: int) -> None:
    assert exit_code_for_task(_task(status)) == code


def test_exit_codes_are_documented() -> None:
    for text in ("0 benign", "1 suspicious", "2 malicious", "3 failed"):
        assert text in EXIT_CODES_HELP
