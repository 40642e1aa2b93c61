"""The /health/, /ready/ and /metrics listener every worker service runs beside its loop."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]


def metrics_response(registry: CollectorRegistry) -> web.Response:
    response = web.Response(body=generate_latest(registry))
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


def health_routes(registry: CollectorRegistry, ready: ReadyCheck) -> list[web.RouteDef]:
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readiness(_: web.Request) -> web.Response:
        checks = await ready()
        status = 200 if all(checks.values()) else 503
        return web.json_response({"ready": status == 200, "checks": checks}, status=status)

    async def metrics(_: web.Request) -> web.Response:
        return metrics_response(registry)

    return [
        web.get("/health/", health),
        web.get("/ready/", readiness),
        web.get("/metrics", metrics),
    ]


@contextlib.asynccontextmanager
async def serve_health(
    host: str, port: int, registry: CollectorRegistry, ready: ReadyCheck
) -> AsyncIterator[None]:
    """Serve the health routes for the duration of the block (port 0 disables it)."""
    if port == 0:
        yield
        return
    app = web.Application()
    app.add_routes(health_routes(registry, ready))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        yield
    finally:
        await runner.cleanup()
