"""What a pipeline with real analyses needs, on loopback: Redis, PostgreSQL and S3, a
package registry the benchmark stocks, the container engine and the analyzer image."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from packguard.devstack import (
    connection_env,
    ensure_analyzer_image,
    ensure_base_image,
    ensure_docker_engine,
    start_stack,
    stop_stack,
)
from tests.e2e.processes import sandbox_env
from tests.fixtures.registry import FixtureRegistry, serve_on_loopback

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SandboxStack:
    env: dict[str, str]
    """The services' environment: connections, engine, image, work dir, registry URLs."""
    registry: FixtureRegistry
    """Serves whatever the benchmark adds to it, at the URLs in ``env``."""


@contextlib.asynccontextmanager
async def sandbox_stack(root: Path) -> AsyncIterator[SandboxStack]:
    """Everything under ``root``, stopped on exit (the engine stays up for the next run)."""
    docker_host = await ensure_docker_engine()
    await ensure_base_image(docker_host, log_path=root / "base.log")
    image = await ensure_analyzer_image(
        docker_host, repo_root=REPO, log_path=root / "image.log", state_dir=root
    )
    stack = await start_stack(root / "stack", free_ports=True, with_docker=False)
    registry = FixtureRegistry()
    server = await serve_on_loopback(registry)
    try:
        yield SandboxStack(
            env={
                **connection_env(stack),
                **sandbox_env(
                    docker_host=docker_host,
                    image=image,
                    work_dir=root / "work",
                    pypi_index_url=registry.pypi_index_url,
                    npm_registry_url=registry.npm_registry_url,
                ),
            },
            registry=registry,
        )
    finally:
        await server.cleanup()
        await stop_stack(stack.state_dir, purge=True)
