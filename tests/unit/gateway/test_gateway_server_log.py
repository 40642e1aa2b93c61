"""aiohttp's server log through ServerLog, and the header budget arithmetic (pure)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestPayloadError

from packguard.gateway.server_limits import header_bytes, server_options
from packguard.gateway.server_log import ServerLog, is_client_error, protocol_error_fields
from packguard.gateway.settings import GatewaySettings

SECRET = "pgk_0123456789abcdef0123456789abcdef_s3cr3t-s3cr3t-s3cr3t-s3cr3t"


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


@pytest.fixture(autouse=True)
def _aiohttp_server_at_debug() -> Iterator[None]:
    logging.getLogger("aiohttp.server").setLevel(logging.DEBUG)
    # Other tests configure structlog with a level filter that capture_logs keeps.
    saved = structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.configure(**saved)


@pytest.mark.parametrize(
    "exc",
    [
        LineTooLong(f"Bearer {SECRET} aaaa", "8190"),
        BadHttpMessage(f"Invalid header value char: b'X-API-Key: {SECRET}\\x01'"),
        RequestPayloadError(f"Can not decode content-encoding: {SECRET}"),
        ValueError(f"unexpected {SECRET}"),
    ],
    ids=["line-too-long", "bad-header", "payload", "unexpected"],
)
def test_server_log_never_repeats_the_exception_message(exc: BaseException) -> None:
    with structlog.testing.capture_logs() as events:
        ServerLog().exception("Error handling request from %s", "127.0.0.1", exc_info=_raised(exc))

    [event] = events
    assert SECRET not in repr(event)
    assert event["error_type"] == type(exc).__name__
    assert event["detail"] == "Error handling request from 127.0.0.1"


def test_server_log_client_errors_are_info_and_bugs_keep_their_frames() -> None:
    with structlog.testing.capture_logs() as events:
        log = ServerLog()
        log.exception("Error handling request", exc_info=_raised(BadHttpMessage("bad")))
        log.exception("Unhandled exception", exc_info=_raised(KeyError("x")))

    malformed, bug = events
    assert (malformed["event"], malformed["log_level"], malformed["status"]) == (
        "http_malformed_request",
        "info",
        400,
    )
    assert (bug["event"], bug["log_level"]) == ("http_server", "error")
    assert "_raised" in bug["frames"]


def test_server_log_debug_without_exception_keeps_aiohttps_message() -> None:
    with structlog.testing.capture_logs() as events:
        ServerLog().debug("Start lingering close timer for %s sec.", 10.0)

    assert events == [
        {
            "event": "http_server",
            "detail": "Start lingering close timer for 10.0 sec.",
            "log_level": "debug",
        }
    ]


def test_protocol_error_fields_of_nothing_is_empty() -> None:
    assert protocol_error_fields(None) == {}
    assert not is_client_error(None)


def test_header_bytes_counts_names_values_and_line_overhead() -> None:
    assert header_bytes(((b"Host", b"x"), (b"X-A", b"12345"))) == (4 + 1 + 4) + (3 + 5 + 4)


def test_server_options_carry_the_settings() -> None:
    settings = GatewaySettings(
        keepalive_timeout_seconds=7,
        body_read_timeout_seconds=3,
        max_header_count=20,
        max_header_line_bytes=2048,
    )

    options = server_options(settings)

    assert options["keepalive_timeout"] == 7 and options["lingering_time"] == 3
    assert options["max_headers"] == 20
    assert options["max_line_size"] == options["max_field_size"] == 2048
    assert isinstance(options["logger"], ServerLog)
