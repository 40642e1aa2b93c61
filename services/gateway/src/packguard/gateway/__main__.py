"""Run the gateway: settings → logging → clients → app, until SIGTERM.

It listens at once, whatever the state of Redis, PostgreSQL and S3: PostgreSQL is
reached and migrated in the background (``packguard.common.startup``), and until then
/ready/ says not ready and the key-protected routes answer 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools

import structlog
import uvloop
from aiohttp import web

from packguard.common.db import service_pool
from packguard.common.logs import configure_logging
from packguard.common.redis_client import create_redis
from packguard.common.settings import StorageSettings
from packguard.common.startup import Connector, Dependency, database_migrated, run_once_connected
from packguard.common.storage import open_report_store
from packguard.common.tracing import configure_tracing
from packguard.common.uploads import UploadStore
from packguard.gateway.app import create_app
from packguard.gateway.settings import GatewaySettings
from packguard.gateway.upload_expiry import set_upload_expiry

log = structlog.get_logger("packguard.gateway")


async def serve(settings: GatewaySettings) -> None:
    async with contextlib.AsyncExitStack() as stack:
        redis_client = create_redis(settings.redis_url)
        stack.push_async_callback(redis_client.aclose)
        pool = await stack.enter_async_context(
            service_pool(
                settings.database_url.get_secret_value(), max_size=settings.database_pool_size
            )
        )
        report_store = await stack.enter_async_context(open_report_store(StorageSettings()))
        connector = await stack.enter_async_context(Connector([database_migrated(pool)]))
        # Retried in the background like a connect step, but not one that readiness
        # waits for: submissions need PostgreSQL, not S3.
        uploads = UploadStore.sharing(report_store)
        expiry = functools.partial(set_upload_expiry, uploads, settings.upload_retention_days)
        await stack.enter_async_context(Connector([Dependency("s3", expiry)]))
        app = create_app(settings, redis_client, pool, report_store, connector=connector)
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=settings.shutdown_timeout_seconds
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, settings.host, settings.port).start()
        log.info("gateway_listening", host=settings.host, port=settings.port)
        stopped = asyncio.Event()
        await run_once_connected(connector, stopped.wait, stopped.set)
        log.info("gateway_stopping")


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)
    log.info("config_loaded", **settings.redacted())
    uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
