"""Request input to models: JSON bodies, query strings and headers, each checked."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, TypeVar
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ValidationError

from packguard.common.errors import (
    BodyTooLarge,
    InvalidInput,
    InvalidJson,
    NotFound,
    UnsupportedMediaType,
)
from packguard.gateway.errors import RequestTimeout
from packguard.gateway.state import SETTINGS

B = TypeVar("B", bound=BaseModel)

IDEMPOTENCY_HEADER = "X-Idempotency-Key"
_IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def field_errors(exc: ValidationError) -> dict[str, str]:
    """``{"priority": "Input should be less than or equal to 10"}`` from pydantic's errors."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(name, error["msg"])
    return fields


def validated(model: type[B], data: Any, *, what: str) -> B:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = field_errors(exc)
        raise InvalidInput(f"invalid {what}: {', '.join(sorted(fields))}", fields=fields) from None


async def read_body(request: web.Request, *, max_bytes: int) -> bytes:
    """The whole body: 413 past ``max_bytes``, 408 when it does not arrive in time."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyTooLarge(f"request body is larger than {max_bytes} bytes")
    timeout = request.app[SETTINGS].body_read_timeout_seconds
    try:
        if request.content.is_eof():
            # Already all here (a small body comes with its head): nothing to wait for,
            # so no deadline timer to arm and cancel.
            raw = await request.read()
        else:
            async with asyncio.timeout(timeout):
                raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise BodyTooLarge(f"request body is larger than {max_bytes} bytes") from None
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {timeout:g} s") from None
    if len(raw) > max_bytes:
        raise BodyTooLarge(f"request body is larger than {max_bytes} bytes")
    return raw


async def read_json_body(request: web.Request, model: type[B], *, max_bytes: int) -> B:
    """The body as ``model``: 413 when too large, 415 unless JSON, 400 when invalid."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyTooLarge(f"request body is larger than {max_bytes} bytes")
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {request.content_type!r}"
        )
    raw = await read_body(request, max_bytes=max_bytes)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidJson("request body is not valid JSON") from None
    except RecursionError:
        # Deeper than the interpreter's recursion limit (~1000): no request body nests so.
        raise InvalidJson("request body is nested too deeply") from None
    return validated(model, data, what="request body")


def read_query(request: web.Request, model: type[B]) -> B:
    return validated(model, dict(request.query.items()), what="query")


def idempotency_key_of(request: web.Request) -> str | None:
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY_PATTERN.match(value):
        raise InvalidInput(
            f"{IDEMPOTENCY_HEADER} must be 1 to 255 printable ASCII characters",
            fields={IDEMPOTENCY_HEADER: "invalid"},
        )
    return value


def task_id_of(request: web.Request) -> UUID:
    """The task id in the path; anything that is not a UUID is simply not found."""
    try:
        return UUID(request.match_info["task_id"])
    except ValueError:
        raise NotFound("task not found") from None
