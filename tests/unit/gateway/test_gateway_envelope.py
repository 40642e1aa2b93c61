"""Envelopes and the error middleware's mapping of exceptions to status and code."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from packguard.common.api import Envelope, ErrorDetail, ErrorEnvelope, TaskAccepted
from packguard.common.errors import (
    BodyTooLarge,
    Conflict,
    DependencyUnavailable,
    InvalidPurl,
    MissingVersion,
    PackguardError,
    RateLimited,
    Unauthorized,
    UnsupportedEcosystem,
    UnsupportedMediaType,
)
from packguard.common.messages import TaskStatus
from packguard.gateway.envelope import error_response, success_response
from packguard.gateway.errors import ReportNotReady, error_envelope
from packguard.gateway.state import REQUEST_ID


def _request() -> web.Request:
    request = make_mocked_request("GET", "/api/v1/reports/")
    request[REQUEST_ID] = "req-1"
    return request


def _body(response: web.StreamResponse) -> dict[str, Any]:
    assert isinstance(response, web.Response) and response.text is not None
    assert response.content_type == "application/json"
    return dict(json.loads(response.text))


def test_success_envelope_shape() -> None:
    task_id = uuid4()
    accepted = TaskAccepted(
        task_id=task_id,
        status=TaskStatus.PENDING,
        outcome="created",
        status_url="s",
        report_url="r",
    )

    response = success_response(_request(), accepted, status=202)

    assert response.status == 202
    assert _body(response) == {
        "success": True,
        "data": {
            "task_id": str(task_id),
            "status": "pending",
            "outcome": "created",
            "status_url": "s",
            "report_url": "r",
        },
        "request_id": "req-1",
    }


def test_success_envelope_keeps_nulls_in_data() -> None:
    response = success_response(
        _request(), {"verdict": None, "at": datetime(2024, 1, 1, tzinfo=UTC)}
    )

    assert _body(response)["data"] == {"verdict": None, "at": "2024-01-01T00:00:00Z"}


def test_error_envelope_omits_fields_when_absent() -> None:
    response = error_response(_request(), status=404, code="not_found", message="task not found")

    assert _body(response) == {
        "success": False,
        "error": {"code": "not_found", "message": "task not found"},
        "request_id": "req-1",
    }


def test_error_envelope_models_round_trip() -> None:
    envelope = ErrorEnvelope(
        error=ErrorDetail(code="invalid_input", message="bad", fields={"purl": "required"}),
        request_id="r",
    )

    assert ErrorEnvelope.model_validate_json(envelope.model_dump_json()) == envelope
    assert Envelope[int](data=3, request_id="r").model_dump() == {
        "success": True,
        "data": 3,
        "request_id": "r",
    }


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidPurl("bad purl", fields={"purl": "x"}), 400, "invalid_purl"),
        (UnsupportedEcosystem("cargo"), 400, "unsupported_ecosystem"),
        (MissingVersion("no version"), 400, "missing_version"),
        (UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
        (BodyTooLarge("big"), 413, "body_too_large"),
        (Unauthorized("no key"), 401, "unauthorized"),
        (ReportNotReady("pending"), 404, "report_not_ready"),
        (Conflict("final"), 409, "conflict"),
        (RateLimited("slow down", retry_after_seconds=3), 429, "rate_limited"),
        (DependencyUnavailable("redis down"), 503, "dependency_unavailable"),
        (web.HTTPNotFound(), 404, "not_found"),
        (web.HTTPRequestEntityTooLarge(max_size=1, actual_size=2), 413, "body_too_large"),
        (RuntimeError("secret detail"), 500, "internal_error"),
    ],
)
async def test_error_middleware_maps_exceptions(error: Exception, status: int, code: str) -> None:
    async def handler(_: web.Request) -> web.StreamResponse:
        raise error

    response = await error_envelope(_request(), handler)

    body = _body(response)
    assert response.status == status
    assert body["success"] is False and body["error"]["code"] == code
    assert body["request_id"] == "req-1"
    assert "secret detail" not in json.dumps(body)
    if isinstance(error, PackguardError) and error.fields:
        assert body["error"]["fields"] == error.fields


async def test_error_middleware_asks_for_bearer_on_401() -> None:
    async def handler(_: web.Request) -> web.StreamResponse:
        raise Unauthorized("no key")

    response = await error_envelope(_request(), handler)

    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_error_middleware_says_when_to_retry_a_503() -> None:
    async def handler(_: web.Request) -> web.StreamResponse:
        raise DependencyUnavailable("database unavailable: refused")

    response = await error_envelope(_request(), handler)

    assert response.status == 503
    assert int(response.headers["Retry-After"]) > 0
