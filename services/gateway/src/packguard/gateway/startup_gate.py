"""Until the gateway has reached PostgreSQL (and migrated it), key-protected routes
answer 503: every one of them reads the database, whose tables may not exist yet."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from packguard.common.errors import DependencyUnavailable
from packguard.common.startup import POSTGRES
from packguard.gateway.auth import is_key_required
from packguard.gateway.state import CONNECTOR


@web.middleware
async def until_connected(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Only PostgreSQL: a route that needs Redis or S3 answers 503 on its own without them.
    if not request.app[CONNECTOR].has_connected(POSTGRES) and is_key_required(request.path):
        raise DependencyUnavailable("database unavailable: the gateway is still connecting")
    return await handler(request)
