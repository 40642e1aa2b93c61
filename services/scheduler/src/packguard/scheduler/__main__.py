"""``python -m packguard.scheduler``: settings → logging → tracing → clients → run.

It starts whatever the state of Redis and PostgreSQL: both are reached (migrations
applied) in the background, /ready/ says which are missing, and the loops start once
both are there.
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
from packguard.common.startup import (
    Connector,
    database_migrated,
    redis_answers,
    run_once_connected,
)
from packguard.common.tracing import configure_tracing
from packguard.scheduler.service import Scheduler
from packguard.scheduler.settings import SchedulerSettings

log = structlog.get_logger("packguard.scheduler")


async def serve(settings: SchedulerSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    log.info("config_loaded", **settings.redacted())
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
        registry = CollectorRegistry()
        scheduler = Scheduler(settings=settings, client=client, pool=pool, registry=registry)
        connector = await stack.enter_async_context(
            Connector(
                [
                    redis_answers(client),
                    database_migrated(pool),
                ]
            )
        )
        await stack.enter_async_context(
            serve_health(
                settings.metrics_host,
                settings.metrics_port,
                registry,
                connector.readiness(scheduler.readiness),
            )
        )
        log.info("scheduler_started")
        await run_once_connected(connector, scheduler.run, scheduler.stop)
        log.info("scheduler_stopped")


def main() -> None:
    uvloop.run(serve(SchedulerSettings()))


if __name__ == "__main__":
    main()
