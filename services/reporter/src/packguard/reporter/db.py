"""The reporter's reads and writes. Each write is one conditional statement, so it
applies atomically and only when the task's rules allow (see ``transitions``): a final
status is never overwritten, and running/phase belong to the task's current attempt.

Every function takes a batch (the events handled in one event-loop tick, see
``packguard.common.coalescing``) and answers per item; ``unnest`` turns the arrays back
into rows, so each row meets exactly the condition it would meet alone. When one task
appears twice in a batch, only the copy that would have won alone is applied: the
later outcome of a final event, the last of running/phase events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

import asyncpg

from packguard.common.db import translated_db_errors
from packguard.common.messages import TaskStatus
from packguard.common.report import AnalysisReport
from packguard.reporter.records import FindingRecord

FINAL_STATUSES = [status.value for status in TaskStatus if status.is_final]

_SELECT_TASKS = (
    "SELECT id, status, attempts, purl, started_at FROM tasks WHERE id = ANY($1::uuid[])"
)

_SET_RUNNING = """
UPDATE tasks AS t SET status = 'running', started_at = r.at, updated_at = now()
FROM unnest($1::uuid[], $2::integer[], $3::timestamptz[]) AS r(id, attempt, at)
WHERE t.id = r.id AND t.status <> ALL($4::text[]) AND t.attempts = r.attempt
RETURNING t.id
"""

_SET_PHASE = """
UPDATE tasks AS t SET phase = r.phase, updated_at = now()
FROM unnest($1::uuid[], $2::integer[], $3::text[]) AS r(id, attempt, phase)
WHERE t.id = r.id AND t.status <> ALL($4::text[]) AND t.attempts = r.attempt
RETURNING t.id
"""

_SET_FAILED = """
UPDATE tasks AS t SET status = 'failed', error_category = r.category,
    error_message = r.message, finished_at = r.at, updated_at = now()
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS r(id, category, message, at)
WHERE t.id = r.id AND t.status <> ALL($5::text[])
RETURNING t.id, t.started_at
"""

# The status, the result row and the findings in one statement: the UPDATE's RETURNING
# feeds the two inserts, so they happen exactly for the tasks it completed.
_SET_COMPLETED = """
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::real[], $5::text[],
                         $6::text[], $7::text[], $8::integer[], $9::timestamptz[])
        AS i(id, analyzer_version, verdict_label, verdict_score, summary, artifact_sha256,
             report_key, finding_count, finished_at)
), done AS (
    UPDATE tasks AS t SET status = 'completed', verdict_label = i.verdict_label,
        verdict_score = i.verdict_score, report_key = i.report_key,
        analyzer_version = i.analyzer_version, finished_at = i.finished_at,
        error_category = NULL, error_message = NULL, updated_at = now()
    FROM input AS i
    WHERE t.id = i.id AND t.status <> ALL($10::text[])
    RETURNING t.id, t.started_at
), result AS (
    INSERT INTO results (task_id, analyzer_version, verdict_label, verdict_score, summary,
                         artifact_sha256, report_key, finding_count)
    SELECT i.id, i.analyzer_version, i.verdict_label, i.verdict_score, i.summary,
           i.artifact_sha256, i.report_key, i.finding_count
    FROM input AS i JOIN done AS d ON d.id = i.id
    ON CONFLICT (task_id) DO UPDATE SET
        analyzer_version = EXCLUDED.analyzer_version,
        verdict_label = EXCLUDED.verdict_label,
        verdict_score = EXCLUDED.verdict_score,
        summary = EXCLUDED.summary,
        artifact_sha256 = EXCLUDED.artifact_sha256,
        report_key = EXCLUDED.report_key,
        finding_count = EXCLUDED.finding_count
), found AS (
    INSERT INTO findings (task_id, ordinal, rule_id, title, severity, confidence, category,
                          file, line, snippet)
    SELECT f.* FROM unnest($11::uuid[], $12::integer[], $13::text[], $14::text[], $15::text[],
                           $16::real[], $17::text[], $18::text[], $19::integer[], $20::text[])
        AS f(task_id, ordinal, rule_id, title, severity, confidence, category, file, line,
             snippet)
    JOIN done AS d ON d.id = f.task_id
    ON CONFLICT (task_id, ordinal) DO UPDATE SET
        rule_id = EXCLUDED.rule_id, title = EXCLUDED.title, severity = EXCLUDED.severity,
        confidence = EXCLUDED.confidence, category = EXCLUDED.category, file = EXCLUDED.file,
        line = EXCLUDED.line, snippet = EXCLUDED.snippet
)
SELECT id, started_at FROM done
"""


@dataclass(frozen=True, slots=True)
class TaskState:
    status: TaskStatus
    attempts: int
    purl: str
    started_at: datetime | None


@dataclass(frozen=True, slots=True)
class Running:
    task_id: UUID
    attempt: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Phase:
    task_id: UUID
    attempt: int
    phase: str | None


@dataclass(frozen=True, slots=True)
class Failure:
    task_id: UUID
    error_category: str
    error_message: str | None
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class Completion:
    task_id: UUID
    report: AnalysisReport
    findings: Sequence[FindingRecord]
    report_key: str
    artifact_sha256: str | None
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class Finished:
    """A final status this batch wrote; ``started_at`` feeds the duration metrics."""

    started_at: datetime | None


async def fetch_tasks(pool: asyncpg.Pool, task_ids: Sequence[UUID]) -> list[TaskState | None]:
    with translated_db_errors():
        rows = await pool.fetch(_SELECT_TASKS, list(set(task_ids)))
    states = {
        row["id"]: TaskState(
            status=TaskStatus(row["status"]),
            attempts=row["attempts"],
            purl=row["purl"],
            started_at=row["started_at"],
        )
        for row in rows
    }
    return [states.get(task_id) for task_id in task_ids]


async def set_running(pool: asyncpg.Pool, items: Sequence[Running]) -> list[bool]:
    chosen = _last_of_each(items)
    with translated_db_errors():
        rows = await pool.fetch(
            _SET_RUNNING,
            [i.task_id for i in chosen],
            [i.attempt for i in chosen],
            [i.at for i in chosen],
            FINAL_STATUSES,
        )
    return _applied(items, chosen, {row["id"] for row in rows})


async def set_phase(pool: asyncpg.Pool, items: Sequence[Phase]) -> list[bool]:
    chosen = _last_of_each(items)
    with translated_db_errors():
        rows = await pool.fetch(
            _SET_PHASE,
            [i.task_id for i in chosen],
            [i.attempt for i in chosen],
            [i.phase for i in chosen],
            FINAL_STATUSES,
        )
    return _applied(items, chosen, {row["id"] for row in rows})


async def set_failed(pool: asyncpg.Pool, items: Sequence[Failure]) -> list[Finished | None]:
    chosen = _first_of_each(items)
    with translated_db_errors():
        rows = await pool.fetch(
            _SET_FAILED,
            [i.task_id for i in chosen],
            [i.error_category for i in chosen],
            [i.error_message for i in chosen],
            [i.finished_at for i in chosen],
            FINAL_STATUSES,
        )
    return _finished(items, chosen, {row["id"]: row["started_at"] for row in rows})


async def save_completions(
    pool: asyncpg.Pool, items: Sequence[Completion]
) -> list[Finished | None]:
    chosen = _first_of_each(items)
    findings = [(i.task_id, f) for i in chosen for f in i.findings]
    with translated_db_errors():
        rows = await pool.fetch(
            _SET_COMPLETED,
            [i.task_id for i in chosen],
            [i.report.analyzer_version for i in chosen],
            [i.report.verdict.label.value for i in chosen],
            [i.report.verdict.score for i in chosen],
            [i.report.verdict.summary for i in chosen],
            [i.artifact_sha256 for i in chosen],
            [i.report_key for i in chosen],
            [len(i.findings) for i in chosen],
            [i.finished_at for i in chosen],
            FINAL_STATUSES,
            [task_id for task_id, _ in findings],
            [f.ordinal for _, f in findings],
            [f.rule_id for _, f in findings],
            [f.title for _, f in findings],
            [f.severity for _, f in findings],
            [f.confidence for _, f in findings],
            [f.category for _, f in findings],
            [f.file for _, f in findings],
            [f.line for _, f in findings],
            [f.snippet for _, f in findings],
        )
    return _finished(items, chosen, {row["id"]: row["started_at"] for row in rows})


class _PerTask(Protocol):
    @property
    def task_id(self) -> UUID: ...


E = TypeVar("E", bound=_PerTask)


def _first_of_each(items: Sequence[E]) -> list[E]:
    """A final status is set once: the first event of a task in the batch wins."""
    chosen: dict[UUID, E] = {}
    for item in items:
        chosen.setdefault(item.task_id, item)
    return list(chosen.values())


def _last_of_each(items: Sequence[E]) -> list[E]:
    """Progress overwrites progress: the last running/phase event of a task wins."""
    return list({item.task_id: item for item in items}.values())


def _applied(items: Sequence[E], chosen: Sequence[E], ids: set[UUID]) -> list[bool]:
    picked = {id(item) for item in chosen}
    return [id(item) in picked and item.task_id in ids for item in items]


def _finished(
    items: Sequence[E], chosen: Sequence[E], started: dict[UUID, datetime | None]
) -> list[Finished | None]:
    picked = {id(item) for item in chosen}
    return [
        Finished(started[item.task_id]) if id(item) in picked and item.task_id in started else None
        for item in items
    ]
