"""Runner process: settings → logging → clients → Runner → consume until SIGTERM.

It starts whatever the state of Redis and S3 (which only uploaded artifacts need, per
task): Redis is reached in the background, /ready/ says not ready until it is, and the
runner claims tasks from then on.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiodocker
import aiohttp
import structlog
import uvloop
from prometheus_client import CollectorRegistry

from packguard.common.health import serve_health
from packguard.common.logs import configure_logging
from packguard.common.redis_client import create_redis, is_redis_ready
from packguard.common.settings import StorageSettings
from packguard.common.startup import Connector, redis_answers, run_once_connected
from packguard.common.storage import open_store
from packguard.common.tracing import configure_tracing
from packguard.common.uploads import UploadStore
from packguard.runner.backends import AnalysisBackend, NoopBackend, SandboxBackend
from packguard.runner.metrics import RunnerMetrics
from packguard.runner.registries import build_registries
from packguard.runner.sandbox import DockerSandbox, SandboxLimits
from packguard.runner.service import Runner, RunnerDependencies
from packguard.runner.settings import RunnerSettings

DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"


@contextlib.asynccontextmanager
async def open_backend(settings: RunnerSettings) -> AsyncIterator[AnalysisBackend]:
    if settings.analysis_backend == "noop":
        yield NoopBackend()
        return
    if settings.docker_host is None and not Path(DEFAULT_DOCKER_SOCKET).exists():
        raise SystemExit(
            f"no container engine: set DOCKER_HOST (no socket at {DEFAULT_DOCKER_SOCKET})"
        )
    timeout = aiohttp.ClientTimeout(sock_connect=30, sock_read=settings.registry_timeout_seconds)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        aiodocker.Docker(url=settings.docker_host) as docker,
        open_store(StorageSettings(), UploadStore) as uploads,
    ):
        yield SandboxBackend(
            http=http,
            sandbox=DockerSandbox(docker, cancel_poll_seconds=settings.cancel_poll_seconds),
            registries=build_registries(
                pypi_index=settings.pypi_index_url, npm_registry=settings.npm_registry_url
            ),
            uploads=uploads,
            image=settings.analyzer_image,
            limits=SandboxLimits.from_settings(settings),
            work_dir=Path(settings.work_dir),
            max_artifact_bytes=settings.max_artifact_bytes,
        )


async def main() -> None:
    settings = RunnerSettings()
    configure_logging(settings.service_name, settings.log_level)
    structlog.get_logger().info("config_loaded", **settings.redacted())
    tracing = configure_tracing(settings.service_name)
    registry = CollectorRegistry()
    redis = create_redis(settings.redis_url)
    async with open_backend(settings) as backend:
        deps = RunnerDependencies(redis, backend, RunnerMetrics.create(registry))
        runner = Runner(settings, deps, settings.consumer_name)

        async def ready() -> dict[str, bool]:
            return {"redis": await is_redis_ready(redis)}

        async with (
            Connector([redis_answers(redis)]) as connector,
            serve_health(
                settings.metrics_host, settings.metrics_port, registry, connector.readiness(ready)
            ),
        ):
            await run_once_connected(connector, runner.consumer.run, runner.consumer.stop)
    await redis.aclose()
    tracing.shutdown()


if __name__ == "__main__":
    uvloop.run(main())
