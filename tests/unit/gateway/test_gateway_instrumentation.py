"""The request-context middleware: request id, trace context, log context and metrics."""

from __future__ import annotations

import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from packguard.gateway.instrumentation import request_context
from packguard.gateway.metrics import GatewayMetrics
from packguard.gateway.state import METRICS, TRACER

ROUTE = "/api/v1/task/{task_id}/"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


async def _ok(_: web.Request) -> web.StreamResponse:
    return web.Response(text="ok")


def _app() -> web.Application:
    app = web.Application()
    app[METRICS] = GatewayMetrics()
    # As configured without an exporter: spans get ids but record nothing.
    app[TRACER] = TracerProvider(sampler=ALWAYS_OFF).get_tracer("test")
    app.router.add_get(ROUTE, _ok)
    return app


async def _request(app: web.Application, headers: dict[str, str] | None = None) -> web.Request:
    request = make_mocked_request("GET", "/api/v1/task/abc/", headers=headers, app=app)
    match_info = await app.router.resolve(request)
    match_info.add_app(app)
    request._match_info = match_info
    return request


async def test_request_context_continues_the_callers_trace_whatever_the_header_case() -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.update(structlog.contextvars.get_contextvars())
        return await _ok(request)

    request = await _request(_app(), {"TraceParent": TRACEPARENT, "X-Request-ID": "req-7"})

    response = await request_context(request, handler)

    assert seen["trace_id"] == TRACE_ID and seen["request_id"] == "req-7"
    assert response.headers["X-Request-ID"] == "req-7"


async def test_request_context_starts_a_trace_when_none_is_sent() -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.update(structlog.contextvars.get_contextvars())
        return await _ok(request)

    await request_context(await _request(_app()), handler)

    trace_id = seen["trace_id"]
    assert isinstance(trace_id, str) and len(trace_id) == 32 and trace_id != "0" * 32


async def test_request_context_unbinds_its_log_context_even_when_the_handler_raises() -> None:
    async def handler(_: web.Request) -> web.StreamResponse:
        raise RuntimeError("boom")

    before = structlog.contextvars.get_contextvars()
    with pytest.raises(RuntimeError):
        await request_context(await _request(_app(), {"TraceParent": TRACEPARENT}), handler)

    assert structlog.contextvars.get_contextvars() == before
    await request_context(await _request(_app()), _ok)
    assert structlog.contextvars.get_contextvars() == before


async def test_request_context_counts_each_request_under_its_route_template() -> None:
    app = _app()

    for _ in range(2):
        await request_context(await _request(app), _ok)

    count = app[METRICS].registry.get_sample_value(
        "packguard_gateway_http_request_duration_seconds_count",
        {"route": ROUTE, "method": "GET", "status": "200"},
    )
    assert count == 2
