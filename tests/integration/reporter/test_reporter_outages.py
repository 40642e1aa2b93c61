"""Outages leave events unacknowledged until they apply; the process entry point."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

import asyncpg
import pytest
import redis.asyncio as redis
from prometheus_client import CollectorRegistry

from packguard.common import keys
from packguard.common.messages import TaskEvent
from packguard.common.purl import parse_purl
from packguard.common.report import AnalysisReport
from packguard.common.settings import StorageSettings
from packguard.common.storage import ReportStore, open_report_store, report_key
from packguard.common.streams import publish
from packguard.reporter import Reporter

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import InsertTask

pytestmark = pytest.mark.integration

DRAIN_LIMIT = 60
"""Seconds: a drain that has not finished by then reports a failure instead of hanging."""


async def _pending(client: redis.Redis) -> int:
    summary = await client.xpending(keys.EVENTS_STREAM, keys.REPORTERS_GROUP)
    return int(summary["pending"])


async def test_s3_down_event_left_pending_then_applied(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    report_store: ReportStore,
    report: AnalysisReport,
    refused_port: int,
) -> None:
    task_id = await insert_task()
    await publish(
        redis_client,
        keys.EVENTS_STREAM,
        TaskEvent(task_id=task_id, kind="completed", report=report),
    )
    nowhere = StorageSettings(
        s3_endpoint_url=f"http://127.0.0.1:{refused_port}",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )

    async with open_report_store(nowhere) as dead_store, asyncio.timeout(DRAIN_LIMIT):
        await make_reporter(store=dead_store).run(drain=True)

    assert await _pending(redis_client) == 1
    assert (await db_pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id)) == "running"
    assert await db_pool.fetchval("SELECT count(*) FROM results") == 0

    # S3 is back: another reporter reclaims the event at once (claim_idle_ms=0).
    back = make_reporter(consumer_name="reporter-2", claim_idle_ms=0, registry=CollectorRegistry())
    async with asyncio.timeout(DRAIN_LIMIT):
        await back.run(drain=True)

    assert await _pending(redis_client) == 0
    row = await db_pool.fetchrow("SELECT status, purl FROM tasks WHERE id = $1", task_id)
    assert row is not None and row["status"] == "completed"
    key = report_key(parse_purl(row["purl"]), task_id)
    assert AnalysisReport.model_validate_json(await report_store.get(key)) == report
    assert await db_pool.fetchval("SELECT count(*) FROM findings") == 2


async def test_postgres_down_event_left_pending_then_applied(
    make_reporter: Callable[..., Reporter],
    insert_task: InsertTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    refused_port: int,
) -> None:
    task_id = await insert_task()
    failed = TaskEvent(task_id=task_id, kind="failed", error_code="hostile_archive")
    await publish(redis_client, keys.EVENTS_STREAM, failed)
    dead_pool = await asyncpg.create_pool(
        f"postgresql://nobody@127.0.0.1:{refused_port}/nothing", min_size=0, max_size=1
    )
    try:
        async with asyncio.timeout(DRAIN_LIMIT):
            await make_reporter(pool=dead_pool).run(drain=True)
    finally:
        await dead_pool.close()

    assert await _pending(redis_client) == 1

    async with asyncio.timeout(DRAIN_LIMIT):
        await make_reporter(claim_idle_ms=0, registry=CollectorRegistry()).run(drain=True)

    assert await _pending(redis_client) == 0
    row = await db_pool.fetchrow("SELECT status, error_category FROM tasks WHERE id = $1", task_id)
    assert row is not None and tuple(row) == ("failed", "hostile_archive")


async def test_main_serves_metrics_and_exits_zero_on_sigterm(
    redis_url: str, database_url: str, storage_settings: StorageSettings, unused_tcp_port: int
) -> None:
    secret = storage_settings.aws_secret_access_key
    key_id = storage_settings.aws_access_key_id
    env = os.environ | {
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "METRICS_PORT": str(unused_tcp_port),
        "S3_ENDPOINT_URL": storage_settings.s3_endpoint_url or "",
        "S3_BUCKET": storage_settings.s3_bucket,
        "AWS_ACCESS_KEY_ID": key_id.get_secret_value() if key_id else "",
        "AWS_SECRET_ACCESS_KEY": secret.get_secret_value() if secret else "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "packguard.reporter"], env=env, stderr=subprocess.PIPE
    )
    try:
        await asyncio.to_thread(_wait_until_ready, unused_tcp_port, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert b'"event": "reporter_stopped"' in stderr


def _wait_until_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while True:
        assert process.poll() is None, "reporter exited early"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready/", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, "ready endpoint never answered 200"
        time.sleep(0.1)
