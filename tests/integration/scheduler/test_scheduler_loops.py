"""Gauges, the sibling loops and the process entry point, against real Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import pytest
import redis.asyncio as redis
from prometheus_client import CollectorRegistry

from packguard.common import keys, lua
from packguard.common.messages import DeadLetter
from packguard.common.streams import publish
from packguard.scheduler import Scheduler

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import FakeClock, InsertTask

pytestmark = pytest.mark.integration


async def test_update_metrics_gauges_match_queues(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    scheduler_registry: CollectorRegistry,
    clock: FakeClock,
) -> None:
    for priority in [0] * 12 + [9]:
        await publish(redis_client, keys.SUBMITTED_STREAM, await insert_task(priority=priority))
    for seconds in (30, 60):
        delayed = await insert_task(not_before=clock.now + timedelta(seconds=seconds))
        await publish(redis_client, keys.SUBMITTED_STREAM, delayed)
    scheduler = make_scheduler(ecosystem_concurrency={"pypi": 2})
    await scheduler.run(drain=True)
    await redis_client.xreadgroup(keys.RUNNERS_GROUP, "runner-1", {keys.READY_STREAM: ">"}, 1)
    await publish(
        redis_client,
        keys.DEAD_LETTER_STREAM,
        DeadLetter(source_stream=keys.READY_STREAM, message_id="1-0", deliveries=6, fields={}),
    )
    now_ms = int(time.time() * 1000)
    acquire = redis_client.register_script(lua.ACQUIRE_SLOT)
    slot_keys = [f"{keys.SLOTS_KEY_PREFIX}pypi"]
    assert await acquire(keys=slot_keys, args=["task-a", now_ms, now_ms + 600_000, 2]) == 1
    assert await acquire(keys=slot_keys, args=["task-b", now_ms, now_ms + 600_000, 2]) == 1
    assert await acquire(keys=slot_keys, args=["task-c", now_ms, now_ms + 600_000, 2]) == 0

    clock.now = datetime.now(UTC) + timedelta(seconds=5)
    snapshot = await scheduler.update_metrics()

    def gauge(name: str, **labels: str) -> float | None:
        return scheduler_registry.get_sample_value(name, labels)

    ready, priority = keys.READY_STREAM, keys.PRIORITY_STREAM
    assert gauge("packguard_scheduler_queue_length", stream=ready) == 12
    assert gauge("packguard_scheduler_queue_lag", stream=ready) == 11
    assert gauge("packguard_scheduler_queue_pending", stream=ready) == 1
    assert gauge("packguard_scheduler_queue_length", stream=priority) == 1
    assert gauge("packguard_scheduler_queue_lag", stream=priority) == 1
    assert gauge("packguard_scheduler_queue_pending", stream=priority) == 0
    assert gauge("packguard_scheduler_queue_length", stream=keys.SUBMITTED_STREAM) == 0
    assert gauge("packguard_scheduler_delayed_tasks") == 2
    assert gauge("packguard_scheduler_dead_letter_length") == 1
    assert gauge("packguard_runner_desired_replicas") == 2  # 13 queued: ceil(13 / 10)
    oldest = gauge("packguard_scheduler_oldest_waiting_seconds")
    assert oldest is not None and 5 <= oldest < 60
    assert gauge("packguard_scheduler_ecosystem_slots_in_use", ecosystem="pypi") == 2
    assert gauge("packguard_scheduler_ecosystem_slots_in_use", ecosystem="npm") == 0
    assert gauge("packguard_scheduler_ecosystem_slots_capacity", ecosystem="pypi") == 2
    assert snapshot.queued([priority, ready]) == 13


async def test_update_metrics_idle_queue_wants_zero_runners(
    make_scheduler: Callable[..., Scheduler], scheduler_registry: CollectorRegistry
) -> None:
    await make_scheduler().run(drain=True)

    assert scheduler_registry.get_sample_value("packguard_runner_desired_replicas") == 0
    assert scheduler_registry.get_sample_value("packguard_scheduler_oldest_waiting_seconds") == 0


async def test_run_stop_ends_every_loop(
    make_scheduler: Callable[..., Scheduler],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
) -> None:
    scheduler = make_scheduler(metrics_interval_seconds=0.05)
    running = asyncio.create_task(scheduler.run())
    message = await insert_task()
    await publish(redis_client, keys.SUBMITTED_STREAM, message)
    deadline = time.monotonic() + 10
    query = "SELECT status FROM tasks WHERE id = $1"
    while await db_pool.fetchval(query, message.task_id) != "queued":
        assert time.monotonic() < deadline, "task was not accepted by the running scheduler"
        await asyncio.sleep(0.02)

    scheduler.stop()
    await asyncio.wait_for(running, timeout=5)


async def test_run_loop_failure_cancels_siblings_and_raises(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock
) -> None:
    calls = 0

    def failing_clock() -> datetime:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise RuntimeError("clock broke")
        return clock.now

    scheduler = make_scheduler()
    scheduler._clock = failing_clock  # a bug in one loop

    with pytest.raises(ExceptionGroup) as raised:
        await asyncio.wait_for(scheduler.run(), timeout=10)
    assert raised.group_contains(RuntimeError, match="clock broke")


async def test_main_serves_metrics_and_exits_zero_on_sigterm(
    redis_url: str, database_url: str, unused_tcp_port: int
) -> None:
    env = os.environ | {
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "METRICS_PORT": str(unused_tcp_port),
        "METRICS_INTERVAL_SECONDS": "0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "packguard.scheduler"], env=env, stderr=subprocess.PIPE
    )
    try:
        body = await asyncio.to_thread(_wait_for_metrics, unused_tcp_port, process)
        assert "packguard_runner_desired_replicas" in body
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert b'"event": "config_loaded"' in stderr
    assert b"database_url" in stderr and b"postgresql://" not in stderr


def _wait_for_metrics(port: int, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 20
    while True:
        assert process.poll() is None, "scheduler exited early"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
                body: str = reply.read().decode()
                if "packguard_scheduler_queue_length" in body:
                    return body
        except OSError:
            pass
        assert time.monotonic() < deadline, "metrics endpoint never came up"
        time.sleep(0.1)


async def test_scheduler_creates_the_runners_group_so_autoscaling_can_start_from_zero(
    make_scheduler: Callable[..., Scheduler], redis_client: redis.Redis
) -> None:
    await make_scheduler().run(drain=True)
    for stream in (keys.READY_STREAM, keys.PRIORITY_STREAM):
        groups = await redis_client.xinfo_groups(stream)
        assert keys.RUNNERS_GROUP.encode() in [g["name"] for g in groups]
