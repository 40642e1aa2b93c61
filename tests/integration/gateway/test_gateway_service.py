"""Health, readiness, metrics, the OpenAPI document and the error envelope for the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

import asyncpg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeGateway

pytestmark = pytest.mark.integration


async def test_health_and_ready_answer_200(gateway: TestClient[Any, Any]) -> None:
    health = await gateway.get("/health/")
    ready = await gateway.get("/ready/")

    assert health.status == 200 and (await health.json()) == {"status": "ok"}
    assert ready.status == 200
    assert (await ready.json()) == {"ready": True, "checks": {"redis": True, "postgres": True}}


async def test_ready_without_redis_is_503(make_gateway: MakeGateway) -> None:
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    gateway = await make_gateway(redis_override=dead)
    try:
        response = await gateway.get("/ready/")
    finally:
        await dead.aclose()

    assert response.status == 503
    assert (await response.json())["checks"] == {"redis": False, "postgres": True}


async def test_metrics_export_latency_by_route_and_submissions_by_outcome(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    headers = {"X-API-Key": api_key}
    await gateway.post("/api/v1/analyze/", json={"purl": "pkg:pypi/six@1.16.0"}, headers=headers)
    await gateway.post("/api/v1/analyze/", json={"purl": "pkg:pypi/six@1.16.0"}, headers=headers)
    await gateway.get(f"/api/v1/task/{uuid4()}/", headers=headers)

    text = await (await gateway.get("/metrics")).text()

    assert (
        'packguard_gateway_http_request_duration_seconds_count{method="POST",'
        'route="/api/v1/analyze/",status="202"} 1.0'
    ) in text
    assert 'route="/api/v1/task/{task_id}/",status="404"' in text
    assert 'packguard_gateway_tasks_submitted_total{outcome="created"} 1.0' in text
    assert 'packguard_gateway_tasks_submitted_total{outcome="deduplicated"} 1.0' in text
    assert str(uuid4())[:8] not in text


async def test_openapi_document_lists_every_route_of_the_app(
    gateway: TestClient[Any, Any],
) -> None:
    response = await gateway.get("/api/v1/openapi.json")

    document = await response.json()
    assert response.content_type == "application/json"
    assert document["openapi"] == "3.1.0"
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in gateway.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {
        (method, path) for path, methods in document["paths"].items() for method in methods
    }
    assert routes == documented


async def test_docs_page_is_self_contained_html(gateway: TestClient[Any, Any]) -> None:
    response = await gateway.get("/api/v1/docs")

    html = await response.text()
    assert response.content_type == "text/html"
    assert "/api/v1/analyze/" in html and "AnalyzeRequest" in html
    assert "<script" not in html and "https://" not in html


async def test_unknown_route_is_404_envelope(gateway: TestClient[Any, Any]) -> None:
    response = await gateway.get("/nowhere", headers={"X-Request-ID": "abc"})

    assert response.status == 404
    assert await response.json() == {
        "success": False,
        "error": {"code": "not_found", "message": "Not Found"},
        "request_id": "abc",
    }


async def test_wrong_method_is_405_envelope(gateway: TestClient[Any, Any], api_key: str) -> None:
    response = await gateway.put("/api/v1/analyze/", headers={"X-API-Key": api_key})

    assert response.status == 405
    assert "POST" in response.headers["Allow"]
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_unexpected_error_is_500_internal_error_without_details(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool
) -> None:
    # A row the gateway cannot read (an ecosystem it does not know) fails inside a handler.
    task_id = uuid4()
    await db_pool.execute(
        "INSERT INTO tasks (id, purl, ecosystem, name, version, timeout_minutes)"
        " VALUES ($1, 'pkg:cargo/x@1', 'cargo', 'x', '1', 30)",
        task_id,
    )
    await db_pool.execute(
        "UPDATE tasks SET api_key_id = (SELECT id FROM api_keys LIMIT 1) WHERE id = $1", task_id
    )

    response = await gateway.get(f"/api/v1/task/{task_id}/", headers={"X-API-Key": api_key})

    body = await response.json()
    assert response.status == 500
    assert body["error"] == {"code": "internal_error", "message": "internal server error"}
    assert body["request_id"]
