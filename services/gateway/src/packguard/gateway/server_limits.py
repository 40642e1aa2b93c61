"""How much a client may send and how long it may take, before any handler runs.

aiohttp's HTTP parser rejects too many header lines and over-long lines (400, plain
text: no request exists yet to wrap in an envelope); ``header_budget`` caps all headers
together (431 ``headers_too_large``). aiohttp's keep-alive timer starts when a connection
opens, so it also closes one that has not sent a complete request head in time — the
slowloris client. The body has its own deadline (``bodies.read_body``, 408).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from packguard.gateway.errors import HeadersTooLarge
from packguard.gateway.server_log import ServerLog
from packguard.gateway.settings import GatewaySettings
from packguard.gateway.state import SETTINGS

# ": " and CRLF around each header line.
_LINE_OVERHEAD = 4


def server_options(settings: GatewaySettings) -> dict[str, Any]:
    """aiohttp request-handler arguments (``web.Application(handler_args=...)``)."""
    return {
        "keepalive_timeout": settings.keepalive_timeout_seconds,
        # The rest of a body the handler did not read (a 413, a 408) is drained for no
        # longer than a body may take to arrive, then the connection closes.
        "lingering_time": settings.body_read_timeout_seconds,
        "max_headers": settings.max_header_count,
        "max_line_size": settings.max_header_line_bytes,
        "max_field_size": settings.max_header_line_bytes,
        "logger": ServerLog(),
    }


def header_bytes(raw_headers: tuple[tuple[bytes, bytes], ...]) -> int:
    return sum(len(name) + len(value) + _LINE_OVERHEAD for name, value in raw_headers)


@web.middleware
async def header_budget(request: web.Request, handler: Handler) -> web.StreamResponse:
    limit = request.app[SETTINGS].max_header_total_bytes
    size = header_bytes(request.raw_headers)
    if size > limit:
        raise HeadersTooLarge(f"request headers are {size} bytes; at most {limit} are accepted")
    return await handler(request)
