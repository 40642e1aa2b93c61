"""The outermost middleware: request id, access log, latency metric and trace span.

It also puts the per-request headers (``X-Request-ID``, ``X-RateLimit-*``) on every
response, whichever inner layer produced it.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from opentelemetry import propagate, trace

from packguard.gateway.rate_limit import rate_limit_headers
from packguard.gateway.state import API_KEY, METRICS, RATE_LIMIT, REQUEST_ID, TRACER

log = structlog.get_logger(__name__)

_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(header: str | None) -> str:
    """The client's ``X-Request-ID`` when it is a sane token, else a fresh one."""
    if header is not None and _REQUEST_ID_PATTERN.match(header):
        return header
    return uuid.uuid4().hex


def route_label(request: web.Request) -> str:
    """The route template (``/api/v1/task/{task_id}/``), never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request_id_of(request.headers.get("X-Request-ID"))
    request[REQUEST_ID] = request_id
    route = route_label(request)
    started = time.perf_counter()
    # The headers themselves are the carrier: the default getter reads them
    # case-insensitively, with no per-request copy.
    parent = propagate.extract(request.headers)
    with request.app[TRACER].start_as_current_span(
        f"{request.method} {route}", context=parent, kind=trace.SpanKind.SERVER
    ) as span:
        span_context = span.get_span_context()
        log_context = {"request_id": request_id}
        if span_context.is_valid:
            log_context["trace_id"] = format(span_context.trace_id, "032x")
        # One bind with tokens, not two structlog bound_contextvars blocks: each of those
        # copies and scans the whole context on entry (a few microseconds apiece).
        tokens = structlog.contextvars.bind_contextvars(**log_context)
        try:
            response = await handler(request)
            response.headers["X-Request-ID"] = request_id
            decision = request.get(RATE_LIMIT)
            if decision is not None:
                response.headers.update(rate_limit_headers(decision))
            duration = time.perf_counter() - started
            request.app[METRICS].observe_request(route, request.method, response.status, duration)
            api_key = request.get(API_KEY)
            api_key_id = str(api_key.id) if api_key is not None else None
            if span.is_recording():  # only an exporting tracer keeps attributes
                span.set_attributes(
                    {
                        "http.request.method": request.method,
                        "http.route": route,
                        "http.response.status_code": response.status,
                        "packguard.request_id": request_id,
                    }
                )
            log.info(
                "http_request",
                method=request.method,
                route=route,
                status=response.status,
                duration_ms=round(duration * 1000, 2),
                api_key_id=api_key_id,
            )
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
    return response
