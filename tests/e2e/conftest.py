"""End-to-end fixtures: every service as a process against the session's real stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.processes import Pipeline, create_api_key, sandbox_env
from tests.fixtures.registry import FixtureRegistry


@pytest_asyncio.fixture(loop_scope="session")
async def pipeline(
    service_env: dict[str, str],
    docker_host: str,
    analyzer_image: str,
    fixture_registry: FixtureRegistry,
    db_pool: object,
    redis_client: object,
    tmp_path: Path,
) -> AsyncIterator[Pipeline]:
    """Fresh database tables and Redis (through db_pool/redis_client), then the services."""
    env = {
        **service_env,
        **sandbox_env(
            docker_host=docker_host,
            image=analyzer_image,
            work_dir=tmp_path / "work",
            pypi_index_url=fixture_registry.pypi_index_url,
            npm_registry_url=fixture_registry.npm_registry_url,
        ),
        "CLAIM_IDLE_MS": "3000",
        "SWEEP_PENDING_AFTER_SECONDS": "5",
    }
    pipeline = Pipeline(base_env=env, log_dir=tmp_path)
    try:
        yield pipeline
    finally:
        await pipeline.stop()


@pytest.fixture
def api_key(service_env: dict[str, str], db_pool: object) -> str:
    """A key made the way an operator makes one: with the CLI."""
    return create_api_key(service_env["DATABASE_URL"], "e2e", rate_limit=100_000)
