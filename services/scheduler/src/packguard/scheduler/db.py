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

# Each statement takes a batch (the handlers of one event-loop tick): unnest turns the
# arrays back into rows, so every row gets exactly the condition it had alone.
_ACCEPT = """
UPDATE tasks AS t
SET status = r.status, attempts = r.attempt, not_before = r.not_before, phase = NULL,
    queue_stream = NULL, queue_seq = NULL,
    queued_at = CASE WHEN r.status = 'queued' THEN now() END, updated_at = now()
FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::timestamptz[])
    AS r(id, attempt, status, not_before)
WHERE t.id = r.id AND t.status <> ALL($5::text[]) AND t.attempts < r.attempt
RETURNING t.id
"""

# Only unindexed columns change (the accept just set updated_at), so PostgreSQL can
# update the row in place (HOT) without a new entry in every index.
_RECORD_POSITION = """
UPDATE tasks AS t SET queue_stream = r.stream, queue_seq = r.seq
FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::bigint[]) AS r(id, attempt, stream, seq)
WHERE t.id = r.id AND t.attempts = r.attempt AND t.status = 'queued'
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


@dataclass(frozen=True, slots=True)
class Accept:
    task_id: UUID
    attempt: int
    status: TaskStatus
    not_before: datetime | None


async def accept_task(
    pool: asyncpg.Pool, task_id: UUID, attempt: int, status: TaskStatus, not_before: datetime | None
) -> bool:
    """The conditional accept; False for a duplicate, stale or cancelled delivery."""
    return (await accept_tasks(pool, [Accept(task_id, attempt, status, not_before)]))[0]


async def accept_tasks(pool: asyncpg.Pool, accepts: Sequence[Accept]) -> list[bool]:
    """``accept_task`` for each, in one statement; a task that appears twice has its
    later copies tried one by one afterwards, as if they had come after."""
    first, later = _first_of_each(accepts)
    with translated_db_errors():
        rows = await pool.fetch(
            _ACCEPT,
            [a.task_id for a in first],
            [a.attempt for a in first],
            [a.status.value for a in first],
            [a.not_before for a in first],
            FINAL_STATUSES,
        )
    accepted = {row["id"] for row in rows}
    answers = [i not in later and a.task_id in accepted for i, a in enumerate(accepts)]
    for i in sorted(later):
        answers[i] = await accept_task(pool, *_fields(accepts[i]))
    return answers


async def record_queue_position(pool: asyncpg.Pool, attempt: int, position: QueuePosition) -> None:
    await record_queue_positions(pool, [(attempt, position)])


async def record_queue_positions(
    pool: asyncpg.Pool, positions: Sequence[tuple[int, QueuePosition]]
) -> list[None]:
    """Record each (attempt, position); for a task given twice the last one wins."""
    latest = {p.task_id: (attempt, p) for attempt, p in positions}
    with translated_db_errors():
        await pool.execute(
            _RECORD_POSITION,
            list(latest),
            [attempt for attempt, _ in latest.values()],
            [p.stream for _, p in latest.values()],
            [p.seq for _, p in latest.values()],
        )
    return [None] * len(positions)


def _first_of_each(accepts: Sequence[Accept]) -> tuple[list[Accept], set[int]]:
    """The first accept of each task, and the indexes of the repeats."""
    seen: set[UUID] = set()
    first: list[Accept] = []
    later: set[int] = set()
    for i, accept in enumerate(accepts):
        if accept.task_id in seen:
            later.add(i)
        else:
            seen.add(accept.task_id)
            first.append(accept)
    return first, later


def _fields(accept: Accept) -> tuple[UUID, int, TaskStatus, datetime | None]:
    return accept.task_id, accept.attempt, accept.status, accept.not_before


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
