"""The hook through which finished tasks will be announced (webhooks come later).

``Reporter`` calls ``task_finished`` once per task, after the final status is committed.
A delivering implementation should record the notification in an outbox inside that
transaction rather than send from here: a crash after the commit would lose it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from packguard.common.messages import TaskStatus


@dataclass(frozen=True, slots=True)
class TaskFinished:
    task_id: UUID
    status: TaskStatus
    finished_at: datetime
    verdict_label: str | None = None
    verdict_score: float | None = None
    report_key: str | None = None
    error_category: str | None = None
    error_message: str | None = None


class Notifier(Protocol):
    async def task_finished(self, outcome: TaskFinished) -> None: ...


class NullNotifier:
    """Announces nothing."""

    async def task_finished(self, outcome: TaskFinished) -> None:
        return None
