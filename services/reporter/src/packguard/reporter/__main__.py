"""``python -m packguard.reporter``: settings → logging → tracing → clients → run.

It starts whatever the state of Redis, PostgreSQL and S3: they are reached (migrations
applied, bucket ensured) in the background, /ready/ says which are missing, and events
are read only once all three are there, so none waits pending on a dependency at start.
"""

from __future__ import annotations

import contextlib

import structlog
import uvloop
from prometheus_client import CollectorRegistry

from packguard.common.db import service_pool
from packguard.common.health import serve_health
from packguard.common.logs import configure_logging
from packguard.common.redis_client import create_redis
from packguard.common.settings import StorageSettings
from packguard.common.startup import (
    Connector,
    Dependency,
    database_migrated,
    redis_answers,
    run_once_connected,
)
from packguard.common.storage import open_report_store
from packguard.common.tracing import configure_tracing
from packguard.reporter.service import Reporter
from packguard.reporter.settings import ReporterSettings

log = structlog.get_logger("packguard.reporter")


async def serve(settings: ReporterSettings, storage: StorageSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    log.info("config_loaded", **settings.redacted(), s3_bucket=storage.s3_bucket)
    async with contextlib.AsyncExitStack() as stack:
        tracer_provider = configure_tracing(settings.service_name)
        stack.callback(tracer_provider.shutdown)
        client = create_redis(settings.redis_url)
        stack.push_async_callback(client.aclose)
        pool = await stack.enter_async_context(
            service_pool(
                settings.database_url.get_secret_value(), max_size=settings.database_pool_size
            )
        )
        store = await stack.enter_async_context(open_report_store(storage))
        registry = CollectorRegistry()
        reporter = Reporter(
            settings=settings, client=client, pool=pool, store=store, registry=registry
        )
        connector = await stack.enter_async_context(
            Connector(
                [
                    redis_answers(client),
                    database_migrated(pool),
                    Dependency("s3", store.ensure_bucket),
                ]
            )
        )
        await stack.enter_async_context(
            serve_health(
                settings.metrics_host,
                settings.metrics_port,
                registry,
                connector.readiness(reporter.readiness),
            )
        )
        log.info("reporter_started")
        await run_once_connected(connector, reporter.run, reporter.stop)
        log.info("reporter_stopped")


def main() -> None:
    uvloop.run(serve(ReporterSettings(), StorageSettings()))


if __name__ == "__main__":
    main()
