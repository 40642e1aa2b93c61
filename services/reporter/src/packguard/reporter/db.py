"""The reporter's reads and writes: each event is applied in one transaction on a locked row."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias
from uuid import UUID

import asyncpg

from packguard.common.db import translated_db_errors
from packguard.common.messages import TaskStatus
from packguard.common.report import AnalysisReport
from packguard.reporter.records import FindingRecord

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # A pooled connection: what ``locked_task`` hands out (generic only in the stubs).
    Connection: TypeAlias = PoolConnectionProxy[asyncpg.Record]

_SELECT_TASK = "SELECT status, attempts, purl, started_at FROM tasks WHERE id = $1"

_SET_RUNNING = """
UPDATE tasks SET status = 'running', started_at = $2, updated_at = now() WHERE id = $1
"""

_SET_PHASE = "UPDATE tasks SET phase = $2, updated_at = now() WHERE id = $1"

_UPSERT_RESULT = """
INSERT INTO results (task_id, analyzer_version, verdict_label, verdict_score, summary,
                     artifact_sha256, report_key, finding_count)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (task_id) DO UPDATE SET
    analyzer_version = EXCLUDED.analyzer_version,
    verdict_label = EXCLUDED.verdict_label,
    verdict_score = EXCLUDED.verdict_score,
    summary = EXCLUDED.summary,
    artifact_sha256 = EXCLUDED.artifact_sha256,
    report_key = EXCLUDED.report_key,
    finding_count = EXCLUDED.finding_count
"""

_UPSERT_FINDINGS = """
INSERT INTO findings (task_id, ordinal, rule_id, title, severity, confidence, category,
                      file, line, snippet)
SELECT $1, f.* FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::real[],
                           $7::text[], $8::text[], $9::integer[], $10::text[]) AS f
ON CONFLICT (task_id, ordinal) DO UPDATE SET
    rule_id = EXCLUDED.rule_id, title = EXCLUDED.title, severity = EXCLUDED.severity,
    confidence = EXCLUDED.confidence, category = EXCLUDED.category, file = EXCLUDED.file,
    line = EXCLUDED.line, snippet = EXCLUDED.snippet
"""

_SET_COMPLETED = """
UPDATE tasks SET status = 'completed', verdict_label = $2, verdict_score = $3,
    report_key = $4, analyzer_version = $5, finished_at = $6,
    error_category = NULL, error_message = NULL, updated_at = now()
WHERE id = $1
"""

_SET_FAILED = """
UPDATE tasks SET status = 'failed', error_category = $2, error_message = $3,
    finished_at = $4, updated_at = now()
WHERE id = $1
"""


@dataclass(frozen=True, slots=True)
class TaskState:
    status: TaskStatus
    attempts: int
    purl: str
    started_at: datetime | None


async def fetch_task(pool: asyncpg.Pool, task_id: UUID) -> TaskState | None:
    with translated_db_errors():
        return _state(await pool.fetchrow(_SELECT_TASK, task_id))


@contextlib.asynccontextmanager
async def locked_task(
    pool: asyncpg.Pool, task_id: UUID
) -> AsyncIterator[tuple[Connection, TaskState | None]]:
    """A transaction holding the task row's lock; it commits when the block ends."""
    with translated_db_errors():
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(f"{_SELECT_TASK} FOR UPDATE", task_id)
            yield conn, _state(row)


async def set_running(conn: Connection, task_id: UUID, started_at: datetime) -> None:
    await conn.execute(_SET_RUNNING, task_id, started_at)


async def set_phase(conn: Connection, task_id: UUID, phase: str | None) -> None:
    await conn.execute(_SET_PHASE, task_id, phase)


async def save_completion(
    conn: Connection,
    task_id: UUID,
    *,
    report: AnalysisReport,
    findings: Sequence[FindingRecord],
    report_key: str,
    artifact_sha256: str | None,
    finished_at: datetime,
) -> None:
    verdict = report.verdict
    await conn.execute(
        _UPSERT_RESULT,
        task_id,
        report.analyzer_version,
        verdict.label.value,
        verdict.score,
        verdict.summary,
        artifact_sha256,
        report_key,
        len(findings),
    )
    if findings:
        await conn.execute(
            _UPSERT_FINDINGS,
            task_id,
            [f.ordinal for f in findings],
            [f.rule_id for f in findings],
            [f.title for f in findings],
            [f.severity for f in findings],
            [f.confidence for f in findings],
            [f.category for f in findings],
            [f.file for f in findings],
            [f.line for f in findings],
            [f.snippet for f in findings],
        )
    await conn.execute(
        _SET_COMPLETED,
        task_id,
        verdict.label.value,
        verdict.score,
        report_key,
        report.analyzer_version,
        finished_at,
    )


async def set_failed(
    conn: Connection,
    task_id: UUID,
    *,
    error_category: str,
    error_message: str | None,
    finished_at: datetime,
) -> None:
    await conn.execute(_SET_FAILED, task_id, error_category, error_message, finished_at)


def _state(row: asyncpg.Record | None) -> TaskState | None:
    if row is None:
        return None
    return TaskState(
        status=TaskStatus(row["status"]),
        attempts=row["attempts"],
        purl=row["purl"],
        started_at=row["started_at"],
    )
