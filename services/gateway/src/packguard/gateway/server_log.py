"""aiohttp's own server log, as JSON events that never quote what the client sent.

aiohttp logs a malformed request head with the parser's message, which quotes the
offending bytes: an ``Authorization`` line that is too long or holds a control character
would put the API key in the log. Its other messages are multi-line tracebacks that break
one-event-per-line. This adapter, handed to aiohttp as its ``logger``, logs the error type
(and the traceback frames, without the exception's message, for unexpected errors) only.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Mapping
from typing import Any

import structlog
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

_LOGGER_NAME = "packguard.gateway.http_server"

_AIOHTTP_SERVER_LOGGER = "aiohttp.server"


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        return exc_info[1] if isinstance(exc_info[1], BaseException) else None
    return sys.exc_info()[1] if exc_info else None


def protocol_error_fields(exc: BaseException | None) -> dict[str, Any]:
    """What may be logged about ``exc``: its type, status and frames, never its message."""
    if exc is None:
        return {}
    fields: dict[str, Any] = {"error_type": type(exc).__name__}
    if isinstance(exc, HttpProcessingError):
        fields["status"] = exc.code
    elif not is_client_error(exc):
        fields["frames"] = "".join(traceback.format_tb(exc.__traceback__))
    return fields


def is_client_error(exc: BaseException | None) -> bool:
    """A request the client got wrong: a bad head, or a body that cannot be decoded."""
    return isinstance(exc, HttpProcessingError | RequestPayloadError)


class ServerLog(logging.LoggerAdapter[logging.Logger]):
    """Stands in for aiohttp's ``aiohttp.server`` logger (its level decides what is kept)."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger(_AIOHTTP_SERVER_LOGGER), {})

    def log(
        self,
        level: int,
        msg: object,
        *args: object,
        exc_info: Any = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.isEnabledFor(level):
            return
        exc = _exception_of(exc_info)
        # aiohttp's format strings are constants; their arguments are the peer address
        # and timer values, never request bytes.
        try:
            detail = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            detail = str(msg)
        event = "http_server"
        if is_client_error(exc):
            event, level = "http_malformed_request", min(level, logging.INFO)
        # A fresh proxy per event: rare events, and it follows the current configuration.
        structlog.get_logger(_LOGGER_NAME).log(
            level, event, detail=detail, **protocol_error_fields(exc)
        )
