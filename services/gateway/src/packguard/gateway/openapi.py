"""The OpenAPI 3.1 document, assembled from the models in ``packguard.common.api``.

``OPERATIONS`` is the one list of routes: the application registers its handlers from it,
so the document cannot miss a route. Every schema comes from pydantic; none is written
by hand here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from packguard.common.api import (
    API_PREFIX,
    AnalyzeRequest,
    AnalyzeUpload,
    Envelope,
    ErrorEnvelope,
    HealthStatus,
    QueueStatus,
    Readiness,
    ReportPage,
    ReportQuery,
    TaskAccepted,
    TaskView,
)
from packguard.common.report import AnalysisReport
from packguard.gateway.bodies import IDEMPOTENCY_HEADER

_REF_TEMPLATE = "#/components/schemas/{model}"
_AUTH_ERRORS = (401, 429)
# 431: the headers together are over the gateway's budget, whatever the route.
_ALWAYS_ERRORS = (431, 500, 503)
_STATUS_TEXT = {
    200: "OK",
    202: "Accepted: a new task",
    400: "Invalid input",
    401: "Missing, invalid or revoked API key",
    404: "Not found (or another key's task)",
    408: "The body did not arrive in time",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported Content-Type (application/json, or multipart/form-data for uploads)",
    429: "Rate limited; see Retry-After",
    431: "Request headers too large",
    500: "Internal error",
    503: "A dependency (Redis, PostgreSQL, S3) is unavailable",
}


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: Literal["GET", "POST", "DELETE"]
    path: str
    summary: str
    responses: tuple[tuple[int, type[BaseModel] | None], ...]
    """Success statuses and their body model (wrapped in the envelope unless ``raw``)."""
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    is_authenticated: bool = True
    is_raw: bool = False
    media_type: str = "application/json"
    body_media_type: str = "application/json"


_TASK_PATH = f"{API_PREFIX}/task/{{task_id}}/"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "analyze",
        "POST",
        f"{API_PREFIX}/analyze/",
        "Submit a package URL for analysis",
        ((202, TaskAccepted), (200, TaskAccepted)),
        errors=(400, 408, 409, 413, 415),
        body=AnalyzeRequest,
    ),
    Operation(
        "analyze_upload",
        "POST",
        f"{API_PREFIX}/analyze/upload/",
        "Upload an artifact (multipart: file, optional ecosystem, name, version) for analysis",
        ((202, TaskAccepted), (200, TaskAccepted)),
        errors=(400, 409, 413, 415),
        body=AnalyzeUpload,
        body_media_type="multipart/form-data",
    ),
    Operation("get_task", "GET", _TASK_PATH, "A task's status", ((200, TaskView),), (404,)),
    Operation(
        "get_report",
        "GET",
        f"{_TASK_PATH}report/",
        "A completed task's full report (404 report_not_ready before)",
        ((200, AnalysisReport),),
        (404,),
    ),
    Operation("cancel_task", "DELETE", _TASK_PATH, "Cancel a task", ((200, TaskView),), (404, 409)),
    Operation(
        "list_reports",
        "GET",
        f"{API_PREFIX}/reports/",
        "The caller's tasks, newest first",
        ((200, ReportPage),),
        (400,),
        query=ReportQuery,
    ),
    Operation(
        "queue_status", "GET", f"{API_PREFIX}/queue/status/", "Queue depth", ((200, QueueStatus),)
    ),
    Operation(
        "openapi_document",
        "GET",
        f"{API_PREFIX}/openapi.json",
        "This document",
        ((200, None),),
        is_authenticated=False,
        is_raw=True,
    ),
    Operation(
        "docs_page",
        "GET",
        f"{API_PREFIX}/docs",
        "This document as a web page",
        ((200, None),),
        is_authenticated=False,
        is_raw=True,
        media_type="text/html",
    ),
    Operation(
        "health",
        "GET",
        "/health/",
        "Liveness",
        ((200, HealthStatus),),
        is_authenticated=False,
        is_raw=True,
    ),
    Operation(
        "ready",
        "GET",
        "/ready/",
        "Readiness: Redis and PostgreSQL reachable (503 otherwise)",
        ((200, Readiness),),
        is_authenticated=False,
        is_raw=True,
    ),
    Operation(
        "metrics",
        "GET",
        "/metrics",
        "Prometheus metrics",
        ((200, None),),
        is_authenticated=False,
        is_raw=True,
        media_type="text/plain",
    ),
)


def _response_model(operation: Operation, model: type[BaseModel]) -> type[BaseModel]:
    return model if operation.is_raw else Envelope[model]  # type: ignore[valid-type]


def _schema_inputs() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    inputs: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorEnvelope, "serialization")]
    for operation in OPERATIONS:
        for _, model in operation.responses:
            if model is not None:
                inputs.append((_response_model(operation, model), "serialization"))
        for request_model in (operation.body, operation.query):
            if request_model is not None:
                inputs.append((request_model, "validation"))
    return list(dict.fromkeys(inputs))


def _query_parameters(query: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    properties: dict[str, Any] = schemas[query.__name__]["properties"]
    return [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in properties.items()
    ]


_SECONDS_OR_COUNT = {"type": "string", "pattern": "^[0-9]+$"}
_RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "Requests the key may make per minute.",
    "X-RateLimit-Remaining": "Requests left in the current minute.",
    "X-RateLimit-Reset": "Seconds until the current minute's count starts again.",
}


def _response_headers(operation: Operation, status: int) -> dict[str, Any]:
    """X-Request-ID on every response; the rate-limit headers once a key is known."""
    headers: dict[str, Any] = {
        "X-Request-ID": {
            "description": "The client's X-Request-ID when it is a sane token, else a new one.",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
        }
    }
    if operation.is_authenticated and status != 401:
        # Not required: they are left out while Redis, which counts requests, is down.
        for name, description in _RATE_LIMIT_HEADERS.items():
            headers[name] = {"description": description, "schema": _SECONDS_OR_COUNT}
    if status == 429:
        headers["Retry-After"] = {
            "description": "Seconds until the key may send again.",
            "required": True,
            "schema": _SECONDS_OR_COUNT,
        }
    if status == 503 and not operation.is_raw:
        headers["Retry-After"] = {
            "description": "Seconds to wait before trying again (the gateway reconnects).",
            "schema": _SECONDS_OR_COUNT,
        }
    return headers


def _operation_object(
    operation: Operation,
    refs: Mapping[tuple[Any, JsonSchemaMode], dict[str, Any]],
    schemas: dict[str, Any],
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in operation.responses:
        content: dict[str, Any] = {"schema": {"type": "string"}}
        if model is not None:
            content = {"schema": refs[(_response_model(operation, model), "serialization")]}
        responses[str(status)] = {
            "description": _STATUS_TEXT.get(status, "OK"),
            "headers": _response_headers(operation, status),
            "content": {operation.media_type: content},
        }
    errors = operation.errors + (_AUTH_ERRORS if operation.is_authenticated else ())
    for status in sorted(set(errors + _ALWAYS_ERRORS)):
        responses[str(status)] = {
            "description": _STATUS_TEXT[status],
            "headers": _response_headers(operation, status),
            "content": {"application/json": {"schema": refs[(ErrorEnvelope, "serialization")]}},
        }
    parameters: list[dict[str, Any]] = []
    if "{task_id}" in operation.path:
        parameters.append(
            {
                "name": "task_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
        )
    if operation.query is not None:
        parameters.extend(_query_parameters(operation.query, schemas))
    if operation.body is not None:
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Repeating a request with the same key returns the first answer.",
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    result: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "parameters": parameters,
        "responses": responses,
        "security": [{"bearerAuth": []}, {"apiKeyHeader": []}]
        if operation.is_authenticated
        else [],
    }
    if operation.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {
                operation.body_media_type: {"schema": refs[(operation.body, "validation")]}
            },
        }
    return result


def openapi_document(*, version: str = "1.0.0") -> dict[str, Any]:
    refs, definitions = models_json_schema(_schema_inputs(), ref_template=_REF_TEMPLATE)
    schemas: dict[str, Any] = definitions.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation_object(
            operation, refs, schemas
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "packguard",
            "version": version,
            "description": (
                "Analyse open-source packages for malicious behaviour. Every /api/v1/ route "
                "but this document needs an API key. Responses are JSON envelopes; "
                "X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (seconds) "
                "come with every authenticated response, Retry-After with a 429."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
