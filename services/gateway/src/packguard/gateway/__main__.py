"""Run the gateway: settings → logging → Redis → PostgreSQL → S3 → app, until SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import structlog
import uvloop
from aiohttp import web

from packguard.common.db import apply_migrations, create_pool
from packguard.common.logs import configure_logging
from packguard.common.redis_client import create_redis
from packguard.common.settings import StorageSettings
from packguard.common.storage import open_report_store
from packguard.common.tracing import configure_tracing
from packguard.gateway.app import create_app
from packguard.gateway.settings import GatewaySettings

log = structlog.get_logger("packguard.gateway")


async def serve(settings: GatewaySettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    redis_client = create_redis(settings.redis_url)
    pool = await create_pool(
        settings.database_url.get_secret_value(), max_size=settings.database_pool_size
    )
    try:
        await apply_migrations(pool)
        async with open_report_store(StorageSettings()) as report_store:
            app = create_app(settings, redis_client, pool, report_store)
            runner = web.AppRunner(
                app, access_log=None, shutdown_timeout=settings.shutdown_timeout_seconds
            )
            await runner.setup()
            await web.TCPSite(runner, settings.host, settings.port).start()
            log.info("gateway_listening", host=settings.host, port=settings.port)
            await stop.wait()
            log.info("gateway_stopping")
            await runner.cleanup()
    finally:
        await pool.close()
        await redis_client.aclose()


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)
    log.info("config_loaded", **settings.redacted())
    uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
