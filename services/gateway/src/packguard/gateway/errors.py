"""Errors as JSON envelopes, in one middleware.

A PackguardError keeps its ``code`` and ``http_status`` (and ``fields``); an aiohttp
HTTP error (unknown route, wrong method, body over the size limit) gets the matching
code; anything else is a 500 ``internal_error`` whose traceback is logged.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from packguard.common.errors import BodyTooLarge, NotFound, PackguardError, Unauthorized
from packguard.gateway.envelope import error_response

log = structlog.get_logger(__name__)


class ReportNotReady(NotFound):
    code = "report_not_ready"


_HTTP_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: BodyTooLarge.code,
    415: "unsupported_media_type",
    429: "rate_limited",
}


@web.middleware
async def error_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PackguardError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        if exc.http_status >= 500:
            log.warning("http_dependency_error", code=exc.code, error=exc.message)
        return error_response(
            request,
            status=exc.http_status,
            code=exc.code,
            message=exc.message,
            fields=exc.fields,
            headers=headers,
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = exc.headers.get("Allow")
        return error_response(
            request,
            status=exc.status,
            code=_HTTP_CODES.get(exc.status, "http_error"),
            message=exc.reason,
            headers={"Allow": allow} if allow else None,
        )
    except Exception:
        log.exception("http_unhandled_error", method=request.method, path=request.path)
        return error_response(
            request, status=500, code="internal_error", message="internal server error"
        )
