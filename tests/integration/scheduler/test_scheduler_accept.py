"""Accept and retry (docs/task-lifecycle.md) against real Redis and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import asyncpg
import pytest
import redis.asyncio as redis

from packguard.common import keys
from packguard.common.messages import TaskEvent, TaskMessage, decode_message
from packguard.common.streams import publish
from packguard.scheduler import Scheduler

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import FakeClock, InsertTask

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def _stream(client: redis.Redis, stream: str) -> list[tuple[TaskMessage, int]]:
    """(message, seq) of every entry on a ready stream, in stream order."""
    entries = await client.xrange(stream)
    return [(decode_message(TaskMessage, fields), int(fields[b"seq"])) for _, fields in entries]


async def _row(pool: asyncpg.Pool, message: TaskMessage) -> asyncpg.Record:
    row = await pool.fetchrow("SELECT * FROM tasks WHERE id = $1", message.task_id)
    assert row is not None
    return row


async def test_accept_new_task_queued_on_ready_stream(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
) -> None:
    message = await insert_task()
    traced = message.model_copy(update={"trace_context": {"traceparent": TRACEPARENT}})
    await publish(redis_client, keys.SUBMITTED_STREAM, traced)

    await make_scheduler().run(drain=True)

    row = await _row(db_pool, message)
    assert (row["status"], row["attempts"]) == ("queued", 1)
    assert (row["queue_stream"], row["queue_seq"]) == (keys.READY_STREAM, 1)
    assert row["queued_at"] is not None
    [(queued, seq)] = await _stream(redis_client, keys.READY_STREAM)
    assert (queued.task_id, queued.attempt, seq) == (message.task_id, 1, 1)
    assert queued.trace_context["traceparent"].split("-")[1] == TRACE_ID
    assert await redis_client.xlen(keys.PRIORITY_STREAM) == 0
    assert await redis_client.xlen(keys.SUBMITTED_STREAM) == 0


async def test_accept_high_priority_task_goes_to_priority_stream(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
) -> None:
    low, high = await insert_task(priority=4), await insert_task(priority=5)
    for message in (low, high):
        await publish(redis_client, keys.SUBMITTED_STREAM, message)

    await make_scheduler().run(drain=True)

    assert [m.task_id for m, _ in await _stream(redis_client, keys.PRIORITY_STREAM)] == [
        high.task_id
    ]
    assert [m.task_id for m, _ in await _stream(redis_client, keys.READY_STREAM)] == [low.task_id]
    assert (await _row(db_pool, high))["queue_stream"] == keys.PRIORITY_STREAM


async def test_accept_delayed_tasks_released_in_time_order(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    clock: FakeClock,
) -> None:
    start = clock.now
    later, soon, middle = [
        await insert_task(not_before=start + timedelta(seconds=s)) for s in (30, 10, 20)
    ]
    urgent = await insert_task(priority=8, not_before=start + timedelta(seconds=25))
    for message in (later, soon, middle, urgent):
        await publish(redis_client, keys.SUBMITTED_STREAM, message)
    scheduler = make_scheduler()

    await scheduler.run(drain=True)
    assert {(await _row(db_pool, m))["status"] for m in (later, soon, middle)} == {"delayed"}
    assert await redis_client.zcard(keys.DELAYED_ZSET) == 4
    assert await redis_client.xlen(keys.READY_STREAM) == 0

    clock.advance(15)
    await scheduler.run(drain=True)
    assert [m.task_id for m, _ in await _stream(redis_client, keys.READY_STREAM)] == [soon.task_id]
    assert (await _row(db_pool, middle))["status"] == "delayed"

    clock.advance(60)
    await scheduler.run(drain=True)
    released = await _stream(redis_client, keys.READY_STREAM)
    assert [(m.task_id, seq) for m, seq in released] == [
        (soon.task_id, 1),
        (middle.task_id, 2),
        (later.task_id, 3),
    ]
    assert [m.task_id for m, _ in await _stream(redis_client, keys.PRIORITY_STREAM)] == [
        urgent.task_id
    ]
    for message, seq in released:
        row = await _row(db_pool, message)
        assert (row["status"], row["queue_stream"], row["queue_seq"]) == (
            "queued",
            keys.READY_STREAM,
            seq,
        )
    assert await redis_client.zcard(keys.DELAYED_ZSET) == 0
    assert await redis_client.hlen(keys.DELAYED_PAYLOAD_HASH) == 0


async def test_accept_duplicate_publish_dropped(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
) -> None:
    message = await insert_task()
    for _ in range(3):
        await publish(redis_client, keys.SUBMITTED_STREAM, message)

    await make_scheduler().run(drain=True)

    assert len(await _stream(redis_client, keys.READY_STREAM)) == 1
    assert await redis_client.xlen(keys.SUBMITTED_STREAM) == 0


async def test_accept_cancelled_task_dropped(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
) -> None:
    message = await insert_task(status="cancelled")
    await publish(redis_client, keys.SUBMITTED_STREAM, message)

    await make_scheduler().run(drain=True)

    row = await _row(db_pool, message)
    assert (row["status"], row["attempts"]) == ("cancelled", 0)
    assert await redis_client.xlen(keys.READY_STREAM) == 0
    assert await redis_client.zcard(keys.DELAYED_ZSET) == 0
    assert await redis_client.xlen(keys.SUBMITTED_STREAM) == 0


async def test_accept_redelivery_after_crash_before_enqueue_enqueues(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
) -> None:
    # A scheduler ran the accept UPDATE and died before ENQUEUE_READY: the row says
    # queued without a position and the message is pending for the dead consumer.
    message = await insert_task(status="queued", attempts=1)
    await redis_client.xgroup_create(keys.SUBMITTED_STREAM, keys.SCHEDULERS_GROUP, mkstream=True)
    await publish(redis_client, keys.SUBMITTED_STREAM, message)
    await redis_client.xreadgroup(keys.SCHEDULERS_GROUP, "dead", {keys.SUBMITTED_STREAM: ">"})

    await make_scheduler(claim_idle_ms=0).run(drain=True)

    [(queued, seq)] = await _stream(redis_client, keys.READY_STREAM)
    assert queued.task_id == message.task_id
    assert (await _row(db_pool, message))["queue_seq"] == seq


async def test_retry_attempt_delayed_by_backoff_then_released(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    clock: FakeClock,
) -> None:
    first = await insert_task(status="running", attempts=1)
    retry = first.model_copy(update={"attempt": 2, "retry_reason": "registry_unavailable"})
    await publish(redis_client, keys.SUBMITTED_STREAM, retry)
    scheduler = make_scheduler(retry_base_seconds=10.0)

    await scheduler.run(drain=True)

    row = await _row(db_pool, first)
    assert (row["status"], row["attempts"]) == ("delayed", 2)
    assert row["not_before"] == clock.now + timedelta(seconds=10)
    score = await redis_client.zscore(keys.DELAYED_ZSET, str(first.task_id))
    assert score == int((clock.now + timedelta(seconds=10)).timestamp() * 1000)

    clock.advance(9)
    await scheduler.run(drain=True)
    assert await redis_client.xlen(keys.READY_STREAM) == 0
    clock.advance(1)
    await scheduler.run(drain=True)
    [(queued, _)] = await _stream(redis_client, keys.READY_STREAM)
    assert (queued.attempt, queued.retry_reason) == (2, "registry_unavailable")
    assert (await _row(db_pool, first))["status"] == "queued"


@pytest.mark.parametrize(("attempt", "backoff"), [(2, 10.0), (3, 20.0)])
async def test_retry_backoff_grows_per_attempt(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    clock: FakeClock,
    attempt: int,
    backoff: float,
) -> None:
    first = await insert_task(status="running", attempts=attempt - 1)
    retry = first.model_copy(update={"attempt": attempt, "retry_reason": "sandbox_unavailable"})
    await publish(redis_client, keys.SUBMITTED_STREAM, retry)

    await make_scheduler(retry_base_seconds=10.0).run(drain=True)

    row = await _row(db_pool, first)
    assert row["not_before"] == clock.now + timedelta(seconds=backoff)


async def test_retry_after_max_attempts_emits_failed_event(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
) -> None:
    first = await insert_task(status="running", attempts=3)
    retry = first.model_copy(
        update={
            "attempt": 4,
            "retry_reason": "registry_unavailable",
            "trace_context": {"traceparent": TRACEPARENT},
        }
    )
    await publish(redis_client, keys.SUBMITTED_STREAM, retry)

    await make_scheduler(max_attempts=3).run(drain=True)

    [(_, fields)] = await redis_client.xrange(keys.EVENTS_STREAM)
    event = decode_message(TaskEvent, fields)
    assert (event.task_id, event.kind, event.attempt) == (first.task_id, "failed", 3)
    assert event.error_code == "registry_unavailable"
    assert event.error_message is not None and "3 attempts" in event.error_message
    assert event.trace_context["traceparent"].split("-")[1] == TRACE_ID
    # The reporter records the failure; the scheduler leaves the row alone.
    row = await _row(db_pool, first)
    assert (row["status"], row["attempts"]) == ("running", 3)
    assert await redis_client.xlen(keys.READY_STREAM) == 0
    assert await redis_client.zcard(keys.DELAYED_ZSET) == 0


async def test_sweep_republishes_lost_publish_only(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    clock: FakeClock,
) -> None:
    # The gateway INSERTed both rows; the publish of the old one was lost.
    lost = await insert_task(pending_for_seconds=120)
    fresh = await insert_task(pending_for_seconds=0)
    clock.now = await db_pool.fetchval("SELECT now()")

    await make_scheduler(sweep_pending_after_seconds=60).run(drain=True)

    assert (await _row(db_pool, lost))["status"] == "queued"
    assert (await _row(db_pool, fresh))["status"] == "pending"
    assert [m.task_id for m, _ in await _stream(redis_client, keys.READY_STREAM)] == [lost.task_id]


async def test_sweep_same_stale_row_republished_once_per_interval(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    clock: FakeClock,
) -> None:
    await insert_task(pending_for_seconds=120)
    clock.now = await db_pool.fetchval("SELECT now()")
    scheduler = make_scheduler(sweep_pending_after_seconds=60)

    assert await scheduler.sweep_pending() == 1
    assert await scheduler.sweep_pending() == 0
    clock.advance(61)
    assert await scheduler.sweep_pending() == 1
    assert await redis_client.xlen(keys.SUBMITTED_STREAM) == 2
