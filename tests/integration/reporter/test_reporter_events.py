"""Applying task events, idempotently, against real Redis, PostgreSQL and S3."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import asyncpg
import pytest
import redis.asyncio as redis
from prometheus_client import CollectorRegistry

from packguard.common import keys
from packguard.common.errors import NotFound
from packguard.common.messages import TaskEvent
from packguard.common.purl import parse_purl
from packguard.common.report import AnalysisReport
from packguard.common.storage import ReportStore, report_key
from packguard.common.streams import publish
from packguard.reporter import Reporter

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import InsertTask, RecordingNotifier

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _publish(client: redis.Redis, *events: TaskEvent) -> None:
    for event in events:
        await publish(client, keys.EVENTS_STREAM, event)


async def _row(pool: asyncpg.Pool, task_id: UUID) -> asyncpg.Record:
    row = await pool.fetchrow("SELECT * FROM tasks WHERE id = $1", task_id)
    assert row is not None
    return row


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_completed_delivered_twice_writes_report_and_rows_once(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    report_store: ReportStore,
    reporter_registry: CollectorRegistry,
    notifier: RecordingNotifier,
    report: AnalysisReport,
) -> None:
    task_id = await insert_task(started_at=AT - timedelta(seconds=30))
    completed = TaskEvent(
        task_id=task_id, kind="completed", at=AT, report=report, artifact_sha256="cd" * 32
    )
    await _publish(redis_client, completed, completed)

    await make_reporter().run(drain=True)

    row = await _row(db_pool, task_id)
    purl = row["purl"]
    key = report_key(parse_purl(purl), task_id)
    assert key == f"reports/npm/@scope/left-pad/{row['version']}/{task_id}.json"
    assert AnalysisReport.model_validate_json(await report_store.get(key)) == report
    assert (row["status"], row["verdict_label"], row["verdict_score"]) == (
        "completed",
        "suspicious",
        6.0,
    )
    assert (row["report_key"], row["analyzer_version"], row["finished_at"]) == (key, "0.1.0", AT)
    results = await db_pool.fetch("SELECT * FROM results WHERE task_id = $1", task_id)
    assert [(r["verdict_label"], r["finding_count"], r["report_key"]) for r in results] == [
        ("suspicious", 2, key)
    ]
    assert results[0]["artifact_sha256"] == "cd" * 32
    findings = await db_pool.fetch(
        "SELECT ordinal, rule_id, severity, file, line FROM findings"
        " WHERE task_id = $1 ORDER BY ordinal",
        task_id,
    )
    assert [tuple(f) for f in findings] == [
        (0, "credentials-read-0", "high", "index.js", 1),
        (1, "credentials-read-1", "high", "index.js", 2),
    ]
    finished = "packguard_reporter_tasks_finished_total"
    assert _sample(reporter_registry, finished, status="completed", verdict="suspicious") == 1
    assert _sample(reporter_registry, "packguard_reporter_events_total", kind="completed") == 2
    assert _sample(reporter_registry, "packguard_reporter_analysis_duration_seconds_sum") == 30
    assert [(n.task_id, n.report_key) for n in notifier.finished] == [(task_id, key)]
    assert await redis_client.xlen(keys.EVENTS_STREAM) == 0


async def test_completed_upload_is_stored_under_its_claimed_package(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    report_store: ReportStore,
    report: AnalysisReport,
) -> None:
    purl = f"pkg:pypi/demo@1.0?checksum=sha256:{'ab' * 32}&file_name=demo-1.0.tar.gz"
    task_id = await insert_task(purl=purl, started_at=AT - timedelta(seconds=5))
    await _publish(
        redis_client,
        TaskEvent(
            task_id=task_id, kind="completed", at=AT, report=report, artifact_sha256="ab" * 32
        ),
    )

    await make_reporter().run(drain=True)

    row = await _row(db_pool, task_id)
    assert (row["status"], row["report_key"]) == (
        "completed",
        f"reports/pypi/demo/1.0/{task_id}.json",
    )
    assert AnalysisReport.model_validate_json(await report_store.get(row["report_key"])) == report


async def test_running_then_phase_then_completed_moves_row_forward(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    report: AnalysisReport,
) -> None:
    task_id = await insert_task(status="queued")
    reporter = make_reporter()

    await _publish(
        redis_client,
        TaskEvent(task_id=task_id, kind="running", at=AT),
        TaskEvent(task_id=task_id, kind="phase", phase="install"),
    )
    await reporter.run(drain=True)
    row = await _row(db_pool, task_id)
    assert (row["status"], row["started_at"], row["phase"]) == ("running", AT, "install")

    done = AT + timedelta(minutes=2)
    await _publish(
        redis_client, TaskEvent(task_id=task_id, kind="completed", at=done, report=report)
    )
    await reporter.run(drain=True)
    row = await _row(db_pool, task_id)
    assert (row["status"], row["started_at"], row["finished_at"]) == ("completed", AT, done)


async def test_failed_event_records_category_and_capped_message(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    reporter_registry: CollectorRegistry,
    notifier: RecordingNotifier,
) -> None:
    task_id = await insert_task()
    failed = TaskEvent(
        task_id=task_id, kind="failed", at=AT, error_code="timeout", error_message="x" * 5000
    )
    await _publish(redis_client, failed, failed)

    await make_reporter(error_message_max_chars=100).run(drain=True)

    row = await _row(db_pool, task_id)
    assert (row["status"], row["error_category"], row["finished_at"]) == ("failed", "timeout", AT)
    assert len(row["error_message"]) == 100
    assert await db_pool.fetchval("SELECT count(*) FROM results") == 0
    finished = "packguard_reporter_tasks_finished_total"
    assert _sample(reporter_registry, finished, status="failed", verdict="none") == 1
    assert [n.error_category for n in notifier.finished] == ["timeout"]


async def test_out_of_order_completed_before_running_stays_completed(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    report: AnalysisReport,
) -> None:
    task_id = await insert_task(status="queued")
    await _publish(
        redis_client,
        TaskEvent(task_id=task_id, kind="completed", at=AT, report=report),
        TaskEvent(task_id=task_id, kind="running", at=AT - timedelta(minutes=1)),
        TaskEvent(task_id=task_id, kind="phase", phase="import"),
        TaskEvent(task_id=task_id, kind="failed", error_code="timeout"),
    )

    await make_reporter(consumer_concurrency=1).run(drain=True)  # one at a time, in this order

    row = await _row(db_pool, task_id)
    assert (row["status"], row["started_at"], row["phase"]) == ("completed", None, None)
    assert (row["error_category"], row["verdict_label"]) == (None, "suspicious")


async def test_running_of_previous_attempt_ignored(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
) -> None:
    # Attempt 2 is accepted (delayed for backoff); attempt 1's runner reports late.
    task_id = await insert_task(status="delayed", attempts=2)
    await _publish(redis_client, TaskEvent(task_id=task_id, kind="running", attempt=1, at=AT))
    reporter = make_reporter()

    await reporter.run(drain=True)
    assert (await _row(db_pool, task_id))["status"] == "delayed"

    await _publish(redis_client, TaskEvent(task_id=task_id, kind="running", attempt=2, at=AT))
    await reporter.run(drain=True)
    assert (await _row(db_pool, task_id))["status"] == "running"


async def test_completed_for_cancelled_task_stores_nothing(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    report_store: ReportStore,
    report: AnalysisReport,
) -> None:
    task_id = await insert_task(status="cancelled")
    await _publish(redis_client, TaskEvent(task_id=task_id, kind="completed", report=report))

    await make_reporter().run(drain=True)

    row = await _row(db_pool, task_id)
    assert (row["status"], row["report_key"]) == ("cancelled", None)
    assert await db_pool.fetchval("SELECT count(*) FROM results") == 0
    with pytest.raises(NotFound):
        await report_store.get(report_key(parse_purl(row["purl"]), task_id))


async def test_completed_without_report_fails_task(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
) -> None:
    task_id = await insert_task()
    await _publish(redis_client, TaskEvent(task_id=task_id, kind="completed"))

    await make_reporter().run(drain=True)

    row = await _row(db_pool, task_id)
    assert (row["status"], row["error_category"]) == ("failed", "analyzer_crashed")


async def test_event_for_unknown_task_acked(
    make_reporter: Callable[..., Reporter],
    redis_client: redis.Redis,
    report: AnalysisReport,
) -> None:
    await _publish(
        redis_client,
        TaskEvent(task_id=uuid4(), kind="running"),
        TaskEvent(task_id=uuid4(), kind="completed", report=report),
    )

    await make_reporter().run(drain=True)

    assert await redis_client.xlen(keys.EVENTS_STREAM) == 0
