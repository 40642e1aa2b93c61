"""Session fixtures start each real dependency once, on loopback; function fixtures
isolate each test (flushed Redis, truncated tables, fresh loopback registry)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
import redis.asyncio as redis

from packguard.common.db import apply_migrations, create_pool
from packguard.common.redis_client import create_redis
from packguard.common.settings import StorageSettings
from packguard.common.storage import ReportStore, open_report_store
from packguard.devstack import (
    RunningStack,
    connection_env,
    ensure_analyzer_image,
    ensure_base_image,
    ensure_docker_engine,
    start_stack,
    stop_stack,
)
from tests.fixtures.registry import FixtureRegistry, serve_on_loopback

_TABLES = ("findings", "results", "tasks", "api_keys")


@pytest_asyncio.fixture(loop_scope="session")
async def outage_stack(tmp_path: Path) -> AsyncIterator[RunningStack]:
    """Redis, PostgreSQL and S3 of this test alone: stopping one disturbs no other test."""
    running = await start_stack(tmp_path / "stack", free_ports=True, with_docker=False)
    try:
        yield running
    finally:
        await stop_stack(running.state_dir, purge=True)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    """Redis, PostgreSQL and S3 for the whole run, on free loopback ports."""
    running = await start_stack(
        tmp_path_factory.mktemp("stack"), free_ports=True, with_docker=False
    )
    try:
        yield running
    finally:
        await stop_stack(running.state_dir, purge=True)


@pytest.fixture(scope="session")
def service_env(stack: RunningStack) -> dict[str, str]:
    return connection_env(stack)


@pytest.fixture(scope="session")
def redis_url(service_env: dict[str, str]) -> str:
    return service_env["REDIS_URL"]


@pytest.fixture(scope="session")
def database_url(service_env: dict[str, str]) -> str:
    return service_env["DATABASE_URL"]


@pytest.fixture(scope="session")
def storage_settings(service_env: dict[str, str]) -> StorageSettings:
    return StorageSettings(
        s3_endpoint_url=service_env["S3_ENDPOINT_URL"],
        s3_bucket=service_env["S3_BUCKET"],
        aws_access_key_id=service_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=service_env["AWS_SECRET_ACCESS_KEY"],
        aws_default_region=service_env.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


@pytest_asyncio.fixture(loop_scope="session")
async def redis_client(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = create_redis(redis_url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def db_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=5)
    await apply_migrations(pool)
    await pool.execute(f"TRUNCATE {', '.join(_TABLES)} CASCADE")
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def report_store(storage_settings: StorageSettings) -> AsyncIterator[ReportStore]:
    async with open_report_store(storage_settings) as store:
        await store.ensure_bucket()
        yield store


@pytest_asyncio.fixture(loop_scope="session")
async def fixture_registry() -> AsyncIterator[FixtureRegistry]:
    """A package registry on loopback serving artifacts the test builds."""
    registry = FixtureRegistry()
    runner = await serve_on_loopback(registry)
    try:
        yield registry
    finally:
        await runner.cleanup()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def docker_host(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real Docker engine (installed and started when missing) with the base image."""
    host = await ensure_docker_engine()
    logs = tmp_path_factory.mktemp("engine-logs")
    await ensure_base_image(host, log_path=logs / "base-image.log")
    return host


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def analyzer_image(
    docker_host: str, repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The analyzer image of this checkout, built once (reused while its sources match)."""
    build = tmp_path_factory.mktemp("analyzer-image")
    return await ensure_analyzer_image(
        docker_host, repo_root=repo_root, log_path=build / "build.log", state_dir=build
    )
