"""Task rows in PostgreSQL as the gateway reads and writes them.

``owner`` is the caller's key id, or None for an admin key, which sees every task.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from packguard.common.api import ReportQuery
from packguard.common.coalescing import Coalescer
from packguard.common.db import translated_db_errors
from packguard.common.messages import TaskStatus
from packguard.common.purl import Ecosystem, PackageRef
from packguard.common.storage import report_key

_FINAL = "('completed', 'failed', 'cancelled')"
_OWN_COLUMNS = (
    "t.id, t.api_key_id, t.purl, t.ecosystem, t.name, t.version, t.priority, t.status,"
    " t.phase, t.attempts, t.timeout_minutes, t.not_before, t.created_at, t.started_at,"
    " t.finished_at, t.error_category, t.error_message"
)
_OUTCOME_COLUMNS = ("verdict_label", "verdict_score", "report_key", "analyzer_version")
# The reporter may record the outcome in ``results`` only; read either place.
_JOINED_COLUMNS = (
    f"{_OWN_COLUMNS}, "
    + ", ".join(f"COALESCE(t.{c}, r.{c}) AS {c}" for c in _OUTCOME_COLUMNS)
    + ", t.queue_stream, t.queue_seq"
)
_FROM = "FROM tasks t LEFT JOIN results r ON r.task_id = t.id"
_VISIBLE = "($2::uuid IS NULL OR t.api_key_id = $2)"

# The whole of each submission without an idempotency replay, for every submission of
# one event-loop tick in one round trip: the key's in-flight task (dedup), else the
# newest completed one by this analyzer version (cache, unless forced), else a new
# ``pending`` row. Rows are inserted in (key, purl) order, so two gateways' batches take
# their unique-index locks in the same order and never deadlock. A submission that a
# racing one beat to the insert (another gateway's, or its twin in the same batch) gets
# no row back: its caller takes the step-by-step path, which explains the conflict.
_SUBMIT_MANY = f"""
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                         $6::text[], $7::smallint[], $8::integer[], $9::text[],
                         $10::timestamptz[], $11::timestamptz[], $12::boolean[])
        WITH ORDINALITY AS i(id, api_key_id, purl, ecosystem, name, version, priority,
                             timeout_minutes, idempotency_key, not_before, created_at,
                             force, n)
), in_flight AS (
    SELECT DISTINCT ON (i.n) i.n, {_JOINED_COLUMNS}
    FROM input i JOIN tasks t ON t.purl = i.purl AND t.api_key_id = i.api_key_id
        LEFT JOIN results r ON r.task_id = t.id
    WHERE t.status NOT IN {_FINAL}
    ORDER BY i.n
), cached AS (
    SELECT DISTINCT ON (i.n) i.n, {_JOINED_COLUMNS}
    FROM input i JOIN tasks t ON t.purl = i.purl LEFT JOIN results r ON r.task_id = t.id
    WHERE NOT i.force AND i.n NOT IN (SELECT n FROM in_flight) AND t.status = 'completed'
      AND COALESCE(t.analyzer_version, r.analyzer_version) = $13::text
    ORDER BY i.n, (t.api_key_id = i.api_key_id) DESC NULLS LAST, t.finished_at DESC NULLS LAST
), inserted AS (
    INSERT INTO tasks (id, api_key_id, purl, ecosystem, name, version, priority, status,
                       attempts, timeout_minutes, idempotency_key, not_before, created_at,
                       updated_at)
    SELECT i.id, i.api_key_id, i.purl, i.ecosystem, i.name, i.version, i.priority,
           'pending', 0, i.timeout_minutes, i.idempotency_key, i.not_before, i.created_at,
           i.created_at
    FROM input i
    WHERE i.n NOT IN (SELECT n FROM in_flight) AND i.n NOT IN (SELECT n FROM cached)
    ORDER BY i.api_key_id, i.purl, i.n
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT 'deduplicated' AS outcome, * FROM in_flight
UNION ALL SELECT 'cached', * FROM cached
UNION ALL SELECT 'created', i.n, {_OWN_COLUMNS},
    {", ".join(f"t.{c}" for c in _OUTCOME_COLUMNS)}, t.queue_stream, t.queue_seq
    FROM inserted t JOIN input i ON i.id = t.id
"""  # noqa: S608 (built from module constants only)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    id: UUID
    api_key_id: UUID | None
    purl: str
    package: PackageRef
    priority: int
    status: TaskStatus
    phase: str | None
    attempts: int
    timeout_minutes: int
    not_before: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error_category: str | None
    error_message: str | None
    verdict_label: str | None
    verdict_score: float | None
    stored_report_key: str | None
    analyzer_version: str | None
    queue_stream: str | None
    queue_seq: int | None

    @property
    def report_key(self) -> str:
        return self.stored_report_key or report_key(self.package, self.id)


@dataclass(frozen=True, slots=True)
class NewTask:
    package: PackageRef
    api_key_id: UUID
    priority: int
    timeout_minutes: int
    created_at: datetime
    not_before: datetime | None
    idempotency_key: str | None


class DuplicateInFlight(Exception):
    """The key already has this purl in flight (a racing submission won)."""


class DuplicateIdempotencyKey(Exception):
    """The key already used this idempotency key (a racing submission won)."""


def _record(row: Any) -> TaskRecord:
    return TaskRecord(
        id=row["id"],
        api_key_id=row["api_key_id"],
        purl=row["purl"],
        package=PackageRef(Ecosystem(row["ecosystem"]), row["name"], row["version"]),
        priority=row["priority"],
        status=TaskStatus(row["status"]),
        phase=row["phase"],
        attempts=row["attempts"],
        timeout_minutes=row["timeout_minutes"],
        not_before=row["not_before"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        error_category=row["error_category"],
        error_message=row["error_message"],
        verdict_label=row["verdict_label"],
        verdict_score=row["verdict_score"],
        stored_report_key=row["report_key"],
        analyzer_version=row["analyzer_version"],
        queue_stream=row["queue_stream"],
        queue_seq=row["queue_seq"],
    )


async def _fetch_one(pool: asyncpg.Pool, query: str, *args: Any) -> TaskRecord | None:
    with translated_db_errors():
        row = await pool.fetchrow(query, *args)
    return _record(row) if row is not None else None


async def find_task(pool: asyncpg.Pool, task_id: UUID, *, owner: UUID | None) -> TaskRecord | None:
    return await _fetch_one(
        pool, f"SELECT {_JOINED_COLUMNS} {_FROM} WHERE t.id = $1 AND {_VISIBLE}", task_id, owner
    )


async def find_in_flight(pool: asyncpg.Pool, api_key_id: UUID, purl: str) -> TaskRecord | None:
    return await _fetch_one(
        pool,
        f"SELECT {_JOINED_COLUMNS} {_FROM} WHERE t.purl = $1 AND t.api_key_id = $2"
        f" AND t.status NOT IN {_FINAL}",
        purl,
        api_key_id,
    )


async def find_by_idempotency_key(
    pool: asyncpg.Pool, api_key_id: UUID, idempotency_key: str
) -> TaskRecord | None:
    return await _fetch_one(
        pool,
        f"SELECT {_JOINED_COLUMNS} {_FROM} WHERE t.idempotency_key = $1 AND t.api_key_id = $2",
        idempotency_key,
        api_key_id,
    )


async def find_completed(
    pool: asyncpg.Pool, purl: str, analyzer_version: str, *, prefer: UUID
) -> TaskRecord | None:
    """The newest completed task of ``purl`` by ``analyzer_version``, ``prefer``'s first."""
    return await _fetch_one(
        pool,
        f"SELECT {_JOINED_COLUMNS} {_FROM} WHERE t.purl = $1 AND t.status = 'completed'"
        " AND COALESCE(t.analyzer_version, r.analyzer_version) = $2"
        " ORDER BY (t.api_key_id = $3) DESC NULLS LAST, t.finished_at DESC NULLS LAST LIMIT 1",
        purl,
        analyzer_version,
        prefer,
    )


def _new_row(task: NewTask) -> tuple[Any, ...]:
    """$1..$11 of a new task row, shared by ``insert_task`` and ``submit_many``."""
    package = task.package
    return (
        uuid4(),
        task.api_key_id,
        package.purl,
        package.ecosystem.value,
        package.name,
        package.version,
        task.priority,
        task.timeout_minutes,
        task.idempotency_key,
        task.not_before,
        task.created_at,
    )


async def insert_task(pool: asyncpg.Pool, task: NewTask) -> TaskRecord:
    """Insert a ``pending`` task; raise DuplicateInFlight or DuplicateIdempotencyKey."""
    try:
        with translated_db_errors():
            row = await pool.fetchrow(
                "INSERT INTO tasks (id, api_key_id, purl, ecosystem, name, version, priority,"
                " status, attempts, timeout_minutes, idempotency_key, not_before, created_at,"
                " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $10,"
                " $11, $11) RETURNING *",
                *_new_row(task),
            )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "tasks_idempotency":
            raise DuplicateIdempotencyKey from exc
        raise DuplicateInFlight from exc
    return _record(row)


Submitted = tuple[str, TaskRecord] | None
"""(outcome, record) of one submission, or None after losing a race (``_SUBMIT_MANY``)."""


async def submit_many(
    pool: asyncpg.Pool, submissions: Sequence[tuple[NewTask, bool]], *, analyzer_version: str
) -> list[Submitted]:
    """Dedup, cache or insert each (task, force) submission, in one statement."""
    rows = [_new_row(task) for task, _ in submissions]
    columns = [list(column) for column in zip(*rows, strict=True)]
    with translated_db_errors():
        answers = await pool.fetch(
            _SUBMIT_MANY, *columns, [force for _, force in submissions], analyzer_version
        )
    by_position = {row["n"]: (row["outcome"], _record(row)) for row in answers}
    return [by_position.get(position) for position in range(1, len(submissions) + 1)]


class TaskSubmissions:
    """``submit_many`` for the request path: the submissions of one event-loop tick
    share one statement."""

    def __init__(self, pool: asyncpg.Pool, analyzer_version: str) -> None:
        self._batch: Coalescer[tuple[NewTask, bool], Submitted] = Coalescer(
            functools.partial(submit_many, pool, analyzer_version=analyzer_version)
        )

    async def submit(self, task: NewTask, *, force: bool) -> Submitted:
        return await self._batch((task, force))


async def find_tasks(pool: asyncpg.Pool, task_ids: Sequence[UUID]) -> dict[UUID, TaskRecord]:
    """The rows of ``task_ids`` that exist, whoever owns them (callers check)."""
    with translated_db_errors():
        rows = await pool.fetch(
            f"SELECT {_JOINED_COLUMNS} {_FROM} WHERE t.id = ANY($1::uuid[])", list(set(task_ids))
        )
    return {row["id"]: _record(row) for row in rows}


class TaskLookup:
    """``find_task`` for the request path: the rows that concurrent requests read in one
    event-loop tick come from one ``id = ANY($1)`` query; each caller sees only what its
    key may see."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._rows: Coalescer[UUID, TaskRecord | None] = Coalescer(self._load)

    async def find(self, task_id: UUID, *, owner: UUID | None) -> TaskRecord | None:
        record = await self._rows(task_id)
        if record is None or (owner is not None and record.api_key_id != owner):
            return None
        return record

    async def _load(self, task_ids: Sequence[UUID]) -> list[TaskRecord | None]:
        found = await find_tasks(self._pool, task_ids)
        return [found.get(task_id) for task_id in task_ids]


async def copy_completed(pool: asyncpg.Pool, source: TaskRecord, api_key_id: UUID) -> TaskRecord:
    """A completed task for ``api_key_id`` sharing ``source``'s verdict and report."""
    package = source.package
    with translated_db_errors():
        row = await pool.fetchrow(
            "INSERT INTO tasks (id, api_key_id, purl, ecosystem, name, version, priority,"
            " status, attempts, timeout_minutes, started_at, finished_at, verdict_label,"
            " verdict_score, report_key, analyzer_version) VALUES ($1, $2, $3, $4, $5, $6, 0,"
            " 'completed', 0, $7, now(), now(), $8, $9, $10, $11) RETURNING *",
            uuid4(),
            api_key_id,
            source.purl,
            package.ecosystem.value,
            package.name,
            package.version,
            source.timeout_minutes,
            source.verdict_label,
            source.verdict_score,
            source.report_key,
            source.analyzer_version,
        )
    return _record(row)


async def cancel_task(
    pool: asyncpg.Pool, task_id: UUID, *, owner: UUID | None
) -> TaskRecord | None:
    """Mark a task that is not final ``cancelled``; None when none such is visible."""
    return await _fetch_one(
        pool,
        "UPDATE tasks SET status = 'cancelled', finished_at = now(), updated_at = now()"
        " WHERE id = $1 AND ($2::uuid IS NULL OR api_key_id = $2)"
        " AND status NOT IN ('completed', 'failed', 'cancelled') RETURNING *",
        task_id,
        owner,
    )


async def list_tasks(
    pool: asyncpg.Pool, query: ReportQuery, *, owner: UUID | None
) -> tuple[list[TaskRecord], int]:
    """One page of the visible tasks matching ``query``, newest first, and their total."""
    where = (
        "WHERE ($1::uuid IS NULL OR t.api_key_id = $1) AND ($2::text IS NULL OR t.status = $2)"
        " AND ($3::text IS NULL OR t.ecosystem = $3)"
        " AND ($4::text IS NULL OR COALESCE(t.verdict_label, r.verdict_label) = $4)"
    )
    filters = (
        owner,
        query.status.value if query.status else None,
        query.ecosystem.value if query.ecosystem else None,
        query.verdict.value if query.verdict else None,
    )
    with translated_db_errors():
        total = await pool.fetchval(f"SELECT count(*) {_FROM} {where}", *filters)
        rows = await pool.fetch(
            f"SELECT {_JOINED_COLUMNS} {_FROM} {where}"
            " ORDER BY t.created_at DESC, t.id DESC LIMIT $5 OFFSET $6",
            *filters,
            query.page_size,
            (query.page - 1) * query.page_size,
        )
    return [_record(row) for row in rows], int(total)


async def count_running(pool: asyncpg.Pool) -> int:
    with translated_db_errors():
        return int(await pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'running'"))


async def is_database_ready(pool: asyncpg.Pool) -> bool:
    try:
        return bool(await pool.fetchval("SELECT 1", timeout=5))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
