"""Builders for gateway integration tests; the real clients come from tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer

from packguard.common.storage import ReportStore
from packguard.gateway import GatewaySettings, create_app
from packguard.gateway.apikeys import create_api_key

MakeGateway = Callable[..., Awaitable[TestClient[Any, Any]]]
MakeKey = Callable[..., Awaitable[str]]


@pytest.fixture
def gateway_settings(redis_url: str, database_url: str) -> GatewaySettings:
    return GatewaySettings.model_validate(
        {
            "redis_url": redis_url,
            "database_url": database_url,
            "max_body_bytes": 4096,
            "default_rate_limit_per_minute": 1000,
        }
    )


@pytest.fixture
async def make_gateway(
    gateway_settings: GatewaySettings,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    report_store: ReportStore,
) -> AsyncIterator[MakeGateway]:
    """Start ``create_app`` on a loopback test server; settings overrides as keywords."""
    clients: list[TestClient[Any, Any]] = []

    async def build(
        *, redis_override: redis.Redis | None = None, **overrides: Any
    ) -> TestClient[Any, Any]:
        settings = gateway_settings.model_copy(update=overrides)
        app = create_app(settings, redis_override or redis_client, db_pool, report_store)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.close()


@pytest.fixture
async def gateway(make_gateway: MakeGateway) -> TestClient[Any, Any]:
    return await make_gateway()


@pytest.fixture
def make_key(db_pool: asyncpg.Pool) -> MakeKey:
    async def build(
        name: str = "test", *, rate_limit: int | None = None, admin: bool = False
    ) -> str:
        _, text = await create_api_key(
            db_pool, name=name, rate_limit_per_minute=rate_limit, is_admin=admin
        )
        return text

    return build


@pytest.fixture
async def api_key(make_key: MakeKey) -> str:
    return await make_key("alice")


@pytest.fixture
async def other_key(make_key: MakeKey) -> str:
    return await make_key("bob")


@pytest.fixture
def set_task(db_pool: asyncpg.Pool) -> Callable[..., Awaitable[None]]:
    """Move a task row as the scheduler, runner and reporter would (columns as keywords)."""

    async def update(task_id: str | UUID, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
        await db_pool.execute(
            f"UPDATE tasks SET {assignments} WHERE id = $1", UUID(str(task_id)), *columns.values()
        )

    return update
