"""Builders for scheduler integration tests; the real clients come from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
import redis.asyncio as redis
from prometheus_client import CollectorRegistry

from packguard.common.messages import TaskMessage
from packguard.common.purl import parse_purl
from packguard.scheduler import Scheduler, SchedulerSettings


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def scheduler_registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def make_scheduler(
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    redis_url: str,
    database_url: str,
    clock: FakeClock,
    scheduler_registry: CollectorRegistry,
) -> Callable[..., Scheduler]:
    def build(*, registry: CollectorRegistry | None = None, **overrides: Any) -> Scheduler:
        """A scheduler on the test's clients; a second one in a test needs its own registry."""
        fields: dict[str, Any] = {
            "redis_url": redis_url,
            "database_url": database_url,
            "consumer_name": "scheduler-test",
            "retry_jitter_fraction": 0.0,
            "ecosystem_concurrency": {},
        }
        settings = SchedulerSettings.model_validate(fields | overrides)
        return Scheduler(
            settings=settings,
            client=redis_client,
            pool=db_pool,
            registry=registry or scheduler_registry,
            clock=clock,
        )

    return build


InsertTask = Callable[..., Awaitable[TaskMessage]]


@pytest.fixture
def insert_task(db_pool: asyncpg.Pool) -> InsertTask:
    """Insert a task row as the gateway would; return its first TaskMessage."""
    versions = count(1)

    async def insert(
        *,
        priority: int = 0,
        status: str = "pending",
        attempts: int = 0,
        not_before: datetime | None = None,
        pending_for_seconds: float = 0.0,
    ) -> TaskMessage:
        package = parse_purl(f"pkg:pypi/six@1.0.{next(versions)}")
        task_id = uuid4()
        created_at = await db_pool.fetchval(
            "INSERT INTO tasks (id, purl, ecosystem, name, version, priority, status, attempts,"
            " timeout_minutes, not_before, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 30, $9,"
            "         now() - make_interval(secs => $10))"
            " RETURNING created_at",
            task_id,
            package.purl,
            package.ecosystem.value,
            package.name,
            package.version,
            priority,
            status,
            attempts,
            not_before,
            pending_for_seconds,
        )
        return TaskMessage(
            task_id=task_id,
            purl=package.purl,
            ecosystem=package.ecosystem.value,
            priority=priority,
            created_at=created_at,
            not_before=not_before,
        )

    return insert
