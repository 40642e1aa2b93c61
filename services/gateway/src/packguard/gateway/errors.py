"""Errors as JSON envelopes, in one middleware.

A PackguardError keeps its ``code`` and ``http_status`` (and ``fields``; a 503
``dependency_unavailable`` also says when to retry, in Retry-After); an aiohttp
HTTP error (unknown route, wrong method, body over the size limit) gets the matching
code, a body aiohttp cannot decode 400 ``invalid_body``; anything else is a 500
``internal_error`` whose traceback is logged.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError

from packguard.common.errors import (
    BodyTooLarge,
    DependencyUnavailable,
    InvalidInput,
    NotFound,
    PackguardError,
    Unauthorized,
)
from packguard.gateway.envelope import error_response

log = structlog.get_logger(__name__)


class ReportNotReady(NotFound):
    code = "report_not_ready"


class RequestTimeout(InvalidInput):
    """The client did not send its body in time (a slow or stalled client)."""

    code = "request_timeout"
    http_status = 408


class HeadersTooLarge(InvalidInput):
    code = "headers_too_large"
    http_status = 431


class UndecodableBody(InvalidInput):
    """aiohttp could not decode the body (bad gzip, broken chunked framing)."""

    code = "invalid_body"


CLIENT_CLOSED_REQUEST = 499
DEPENDENCY_RETRY_AFTER_SECONDS = 5
"""Retry-After of a 503: a dependency is usually back within seconds, and the gateway's
reconnect backoff (``packguard.common.startup``) is capped at 5 s."""

_HTTP_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: RequestTimeout.code,
    409: "conflict",
    411: "length_required",
    413: BodyTooLarge.code,
    415: "unsupported_media_type",
    429: "rate_limited",
    431: HeadersTooLarge.code,
}


@web.middleware
async def error_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PackguardError as exc:
        headers = None
        if isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": "Bearer"}
        elif isinstance(exc, DependencyUnavailable):
            headers = {"Retry-After": str(DEPENDENCY_RETRY_AFTER_SECONDS)}
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
    except RequestPayloadError:
        # Its message may quote the client's bytes: not repeated. The rest of the body
        # cannot be read either, so the connection is not reused.
        response = error_response(
            request,
            status=UndecodableBody.http_status,
            code=UndecodableBody.code,
            message="the request body could not be decoded",
        )
        response.force_close()
        return response
    except ConnectionError:
        if not _is_client_gone(request):
            return _internal_error(request)
        # The client went away mid-request: nothing is broken and nobody reads this
        # answer; 499 (nginx's "client closed request") is what the access log shows.
        log.info("http_client_disconnected", method=request.method)
        return error_response(
            request,
            status=CLIENT_CLOSED_REQUEST,
            code="client_disconnected",
            message="the client closed the connection",
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
        return _internal_error(request)


def _is_client_gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


def _internal_error(request: web.Request) -> web.Response:
    log.exception("http_unhandled_error", method=request.method, path=request.path)
    return error_response(
        request, status=500, code="internal_error", message="internal server error"
    )
