"""The scheduler's reads and writes of task rows (see docs/task-lifecycle.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from packguard.common.db import translated_db_errors
from packguard.common.messages import TaskMessage, TaskStatus
from packguard.scheduler.queues import QueuePosition

FINAL_STATUSES = [status.value for status in TaskStatus if status.is_final]

_ACCEPT = """
UPDATE tasks
SET status = $3, attempts = $2, not_before = $4, phase = NULL,
    queue_stream = NULL, queue_seq = NULL,
    queued_at = CASE WHEN $3 = 'queued' THEN now() END, updated_at = now()
WHERE id = $1 AND status <> ALL($5::text[]) AND attempts < $2
"""

_RECORD_POSITION = """
UPDATE tasks SET queue_stream = $3, queue_seq = $4, updated_at = now()
WHERE id = $1 AND attempts = $2 AND status = 'queued'
"""

_FETCH_ACCEPTANCE = "SELECT status, attempts, not_before, queue_seq FROM tasks WHERE id = $1"

_MARK_RELEASED = """
UPDATE tasks AS t
SET status = 'queued', queue_stream = r.stream, queue_seq = r.seq,
    queued_at = now(), updated_at = now()
FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS r(id, stream, seq)
WHERE t.id = r.id AND t.status = 'delayed'
"""

# updated_at doubles as "last published at" while a row is pending, so a row is
# republished once per SWEEP_PENDING_AFTER_SECONDS, by one scheduler (SKIP LOCKED).
_CLAIM_STALE_PENDING = """
WITH stale AS (
    SELECT id FROM tasks
    WHERE status = 'pending' AND updated_at < $1
    ORDER BY updated_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE tasks AS t SET updated_at = $3
FROM stale WHERE t.id = stale.id
RETURNING t.id, t.purl, t.ecosystem, t.priority, t.created_at, t.timeout_minutes,
          t.attempts, t.not_before
"""


@dataclass(frozen=True, slots=True)
class Acceptance:
    """What the accept step left in a row, to finish an accept interrupted by a crash."""

    status: TaskStatus
    attempts: int
    not_before: datetime | None
    queue_seq: int | None


async def accept_task(
    pool: asyncpg.Pool, task_id: UUID, attempt: int, status: TaskStatus, not_before: datetime | None
) -> bool:
    """The conditional accept; False for a duplicate, stale or cancelled delivery."""
    with translated_db_errors():
        result = await pool.execute(
            _ACCEPT, task_id, attempt, status.value, not_before, FINAL_STATUSES
        )
    return _rowcount(result) == 1


async def record_queue_position(pool: asyncpg.Pool, attempt: int, position: QueuePosition) -> None:
    with translated_db_errors():
        await pool.execute(
            _RECORD_POSITION, position.task_id, attempt, position.stream, position.seq
        )


async def fetch_acceptance(pool: asyncpg.Pool, task_id: UUID) -> Acceptance | None:
    with translated_db_errors():
        row = await pool.fetchrow(_FETCH_ACCEPTANCE, task_id)
    if row is None:
        return None
    return Acceptance(
        status=TaskStatus(row["status"]),
        attempts=row["attempts"],
        not_before=row["not_before"],
        queue_seq=row["queue_seq"],
    )


async def mark_released(pool: asyncpg.Pool, positions: Sequence[QueuePosition]) -> int:
    """Set released delayed rows to queued with their queue position; rows updated."""
    if not positions:
        return 0
    with translated_db_errors():
        result = await pool.execute(
            _MARK_RELEASED,
            [p.task_id for p in positions],
            [p.stream for p in positions],
            [p.seq for p in positions],
        )
    return _rowcount(result)


async def claim_stale_pending(
    pool: asyncpg.Pool, *, older_than: datetime, now: datetime, limit: int
) -> list[TaskMessage]:
    """Pending rows not (re)published since ``older_than``, as the message to publish."""
    with translated_db_errors():
        rows = await pool.fetch(_CLAIM_STALE_PENDING, older_than, limit, now)
    return [
        TaskMessage(
            task_id=row["id"],
            purl=row["purl"],
            ecosystem=row["ecosystem"],
            priority=row["priority"],
            created_at=row["created_at"],
            timeout_minutes=row["timeout_minutes"],
            attempt=row["attempts"] + 1,
            not_before=row["not_before"],
        )
        for row in rows
    ]


def _rowcount(status: str) -> int:
    """The row count of an asyncpg command status such as ``UPDATE 1``."""
    return int(status.rsplit(" ", 1)[-1])
