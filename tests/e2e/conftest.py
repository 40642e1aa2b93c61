"""End-to-end fixtures: every service as a process against the session's real stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.processes import Pipeline, create_api_key
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
        "DOCKER_HOST": docker_host,
        "ANALYZER_IMAGE": analyzer_image,
        "WORK_DIR": str(tmp_path / "work"),
        "PYPI_INDEX_URL": fixture_registry.pypi_index_url,
        "NPM_REGISTRY_URL": fixture_registry.npm_registry_url,
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
