"""API key authentication and the per-key rate limit, for every ``/api/v1/`` route.

The OpenAPI document and the docs page are public. The key comes from
``Authorization: Bearer KEY`` or ``X-API-Key: KEY``; a missing, unknown, wrong or revoked
key is a 401 ``unauthorized``, a key over its limit a 429 ``rate_limited``.
"""

from __future__ import annotations

import time

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from packguard.common.api import API_PREFIX
from packguard.common.errors import DependencyUnavailable, RateLimited, Unauthorized
from packguard.gateway.apikeys import ApiKey
from packguard.gateway.rate_limit import (
    RateLimitDecision,
    rate_limit_decision,
    window_index,
)
from packguard.gateway.state import API_KEY, LOOKUPS, METRICS, RATE_LIMIT, SETTINGS

log = structlog.get_logger(__name__)

PUBLIC_API_PATHS = frozenset({f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/docs"})


def is_key_required(path: str) -> bool:
    return (path == API_PREFIX or path.startswith(f"{API_PREFIX}/")) and (
        path not in PUBLIC_API_PATHS
    )


def presented_key(request: web.Request) -> str | None:
    """The key sent, ``""`` for an unusable Authorization header, None when none is sent."""
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""
    header = request.headers.get("X-API-Key")
    return header.strip() if header is not None else None


async def _rate_limit(request: web.Request, key: ApiKey) -> RateLimitDecision | None:
    settings = request.app[SETTINGS]
    limit = key.rate_limit_per_minute or settings.default_rate_limit_per_minute
    now = time.time()
    counter = f"{settings.rate_limit_key_prefix}{key.id}:{window_index(now)}"
    try:
        count = await request.app[LOOKUPS].rate_counter.count(counter)
    except DependencyUnavailable as exc:
        # Failing open: a Redis outage must not lock every client out of reading tasks.
        log.warning("rate_limit_unavailable", error=exc.message)
        return None
    return rate_limit_decision(count=count, limit=limit, now=now)


@web.middleware
async def authenticate_and_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_key_required(request.path):
        return await handler(request)
    text = presented_key(request)
    if text is None:
        raise Unauthorized("missing API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
    key = await request.app[LOOKUPS].keys.authenticate(text) if text else None
    if key is None:
        raise Unauthorized("invalid or revoked API key")
    request[API_KEY] = key
    # Tokens rather than bound_contextvars, which copies and scans the whole context.
    tokens = structlog.contextvars.bind_contextvars(api_key_id=str(key.id))
    try:
        decision = await _rate_limit(request, key)
        if decision is not None:
            request[RATE_LIMIT] = decision
            if not decision.is_allowed:
                request.app[METRICS].rate_limited.inc()
                raise RateLimited(
                    f"rate limit of {decision.limit} requests per minute exceeded",
                    retry_after_seconds=decision.reset_seconds,
                )
        return await handler(request)
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
