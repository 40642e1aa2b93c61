"""The aiohttp application: ``create_app`` takes every dependency; tests call it too."""

from __future__ import annotations

import asyncpg
import redis.asyncio as redis
from aiohttp import web
from opentelemetry import trace

from packguard.common.health import health_routes
from packguard.common.redis_client import is_redis_ready
from packguard.common.startup import Connector
from packguard.common.storage import ReportStore
from packguard.common.uploads import UploadStore
from packguard.gateway.auth import authenticate_and_limit
from packguard.gateway.docs_page import docs_html
from packguard.gateway.errors import error_envelope
from packguard.gateway.heap import freeze_startup_heap, unfreeze_heap
from packguard.gateway.instrumentation import request_context
from packguard.gateway.lookups import RequestLookups
from packguard.gateway.metrics import GatewayMetrics
from packguard.gateway.openapi import OPERATIONS, openapi_document
from packguard.gateway.queue import TaskPublisher
from packguard.gateway.redis_state import IdempotencyStore
from packguard.gateway.routes import ROUTE_HANDLERS
from packguard.gateway.server_limits import header_budget, server_options
from packguard.gateway.settings import GatewaySettings
from packguard.gateway.startup_gate import until_connected
from packguard.gateway.state import (
    CONNECTOR,
    DOCS_HTML,
    LOOKUPS,
    METRICS,
    OPENAPI,
    POOL,
    REDIS,
    REPORT_STORE,
    SETTINGS,
    SUBMITTER,
    TRACER,
)
from packguard.gateway.submission import Submitter
from packguard.gateway.tasks import TaskSubmissions, is_database_ready
from packguard.gateway.upload import UPLOAD_STORE


def create_app(
    settings: GatewaySettings,
    redis_client: redis.Redis,
    pool: asyncpg.Pool,
    report_store: ReportStore,
    *,
    connector: Connector | None = None,
) -> web.Application:
    """The gateway application; the caller owns (opens and closes) the clients.

    With a ``connector`` still connecting PostgreSQL, the key-protected routes answer 503
    and /ready/ says not ready; without one the pool is taken as migrated.
    """
    metrics = GatewayMetrics()
    # Outermost first: the request context sees every response, errors included.
    middlewares = [request_context, error_envelope, header_budget]
    if connector is not None:
        middlewares.append(until_connected)
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        handler_args=server_options(settings),
        middlewares=[*middlewares, authenticate_and_limit],
    )
    if connector is not None:
        app[CONNECTOR] = connector
    app[SETTINGS] = settings
    app[REDIS] = redis_client
    app[POOL] = pool
    app[REPORT_STORE] = report_store
    app[METRICS] = metrics
    # Once per application: get_tracer builds a new tracer (and its scope) on each call.
    app[TRACER] = trace.get_tracer("packguard.gateway")
    app[LOOKUPS] = RequestLookups.create(pool, redis_client)
    app[SUBMITTER] = Submitter(
        settings=settings,
        pool=pool,
        redis_client=redis_client,
        idempotency=IdempotencyStore(
            redis_client, settings.idempotency_key_prefix, settings.idempotency_ttl_seconds
        ),
        metrics=metrics,
        publisher=TaskPublisher(redis_client, settings.submitted_stream),
        submissions=TaskSubmissions(pool, settings.analyzer_version),
    )
    document = openapi_document()
    app[OPENAPI] = document
    app[DOCS_HTML] = docs_html(document)

    app[UPLOAD_STORE] = UploadStore.sharing(report_store)
    for operation in OPERATIONS:
        handler = ROUTE_HANDLERS.get(operation.operation_id)
        if handler is not None:
            app.router.add_route(operation.method, operation.path, handler)

    async def readiness() -> dict[str, bool]:
        return {
            "redis": await is_redis_ready(redis_client),
            "postgres": await is_database_ready(pool),
        }

    ready = connector.readiness(readiness) if connector is not None else readiness
    app.add_routes(health_routes(metrics.registry, ready))
    app.on_startup.append(freeze_startup_heap)
    app.on_cleanup.append(unfreeze_heap)
    return app
