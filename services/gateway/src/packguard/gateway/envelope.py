"""JSON envelopes: every API response body goes out through these two functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from packguard.common.api import Envelope, ErrorDetail, ErrorEnvelope
from packguard.gateway.state import REQUEST_ID

_JSON = "application/json"
# Parametrised once: pydantic keeps ``Envelope[Any]`` only weakly, so naming it per
# response now and then rebuilds the whole class (milliseconds, seen in profiles).
_SUCCESS = Envelope[Any]


def success_response(
    request: web.Request, data: BaseModel | dict[str, Any], *, status: int = 200
) -> web.Response:
    envelope = _SUCCESS(data=data, request_id=request.get(REQUEST_ID, ""))
    return web.Response(text=envelope.model_dump_json(), status=status, content_type=_JSON)


def error_response(
    request: web.Request,
    *,
    status: int,
    code: str,
    message: str,
    fields: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    envelope = ErrorEnvelope(
        error=ErrorDetail(code=code, message=message, fields=fields),
        request_id=request.get(REQUEST_ID, ""),
    )
    return web.Response(
        text=envelope.model_dump_json(exclude_none=True),
        status=status,
        content_type=_JSON,
        headers=headers,
    )
