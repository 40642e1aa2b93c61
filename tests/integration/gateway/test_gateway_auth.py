"""API keys, the per-key rate limit and the request id, through the real stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from packguard.gateway.apikeys import list_api_keys, revoke_api_key
from packguard.gateway.credentials import key_id_of, new_key_text

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeGateway, MakeKey

pytestmark = pytest.mark.integration

REPORTS = "/api/v1/reports/"


async def _error_code(response: Any) -> str:
    body = await response.json()
    assert body["success"] is False
    return str(body["error"]["code"])


async def test_auth_bearer_and_x_api_key_headers_are_accepted(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    bearer = await gateway.get(REPORTS, headers={"Authorization": f"bearer {api_key}"})
    header = await gateway.get(REPORTS, headers={"X-API-Key": api_key})

    assert bearer.status == 200 and header.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": new_key_text(uuid4())},
    ],
    ids=["missing", "empty-bearer", "basic", "malformed", "unknown-id"],
)
async def test_auth_without_a_valid_key_is_401(
    gateway: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    response = await gateway.get(REPORTS, headers=headers)

    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await _error_code(response) == "unauthorized"


async def test_auth_right_id_wrong_secret_is_401(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    forged = api_key[: api_key.rindex("_") + 1] + "A" * 43

    response = await gateway.post("/api/v1/analyze/", json={}, headers={"X-API-Key": forged})

    assert response.status == 401 and await _error_code(response) == "unauthorized"


async def test_auth_revoked_key_is_401(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool
) -> None:
    assert (await gateway.get(REPORTS, headers={"X-API-Key": api_key})).status == 200
    key_id = key_id_of(api_key)
    assert key_id is not None
    await revoke_api_key(db_pool, key_id)

    response = await gateway.get(REPORTS, headers={"X-API-Key": api_key})

    assert response.status == 401 and await _error_code(response) == "unauthorized"


async def test_auth_keys_are_stored_as_hashes_only(api_key: str, db_pool: asyncpg.Pool) -> None:
    stored = await db_pool.fetchrow("SELECT * FROM api_keys")

    assert api_key not in {str(value) for value in stored.values()}
    assert len(stored["key_hash"]) == 64
    assert [key.id for key in await list_api_keys(db_pool)] == [key_id_of(api_key)]


@pytest.mark.parametrize(
    "path", ["/api/v1/openapi.json", "/api/v1/docs", "/health/", "/ready/", "/metrics"]
)
async def test_auth_public_routes_need_no_key(gateway: TestClient[Any, Any], path: str) -> None:
    response = await gateway.get(path)

    assert response.status == 200
    assert "X-RateLimit-Limit" not in response.headers


@pytest.mark.parametrize("path", ["/api/v1/queue/status/", "/api/v1/nowhere", "/api/v1"])
async def test_auth_every_other_api_route_needs_a_key(
    gateway: TestClient[Any, Any], path: str
) -> None:
    assert (await gateway.get(path)).status == 401


async def test_rate_limit_over_the_key_limit_is_429_with_headers(
    gateway: TestClient[Any, Any], make_key: MakeKey
) -> None:
    key = await make_key("limited", rate_limit=3)
    remaining = []
    for _ in range(3):
        response = await gateway.get(REPORTS, headers={"X-API-Key": key})
        assert response.status == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert 1 <= int(response.headers["X-RateLimit-Reset"]) <= 60
        remaining.append(response.headers["X-RateLimit-Remaining"])

    refused = await gateway.get(REPORTS, headers={"X-API-Key": key})

    assert remaining == ["2", "1", "0"]
    assert refused.status == 429
    assert await _error_code(refused) == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Limit"] == "3"


async def test_rate_limit_is_per_key(
    gateway: TestClient[Any, Any], make_key: MakeKey, api_key: str
) -> None:
    limited = await make_key("limited", rate_limit=1)
    await gateway.get(REPORTS, headers={"X-API-Key": limited})
    assert (await gateway.get(REPORTS, headers={"X-API-Key": limited})).status == 429

    assert (await gateway.get(REPORTS, headers={"X-API-Key": api_key})).status == 200


async def test_rate_limit_default_applies_to_keys_without_their_own(
    make_gateway: MakeGateway, make_key: MakeKey
) -> None:
    gateway = await make_gateway(default_rate_limit_per_minute=2)
    key = await make_key("default")

    statuses = [(await gateway.get(REPORTS, headers={"X-API-Key": key})).status for _ in range(3)]

    assert statuses == [200, 200, 429]


async def test_rate_limit_headers_come_with_error_responses(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    response = await gateway.get(f"/api/v1/task/{uuid4()}/", headers={"X-API-Key": api_key})

    assert response.status == 404
    assert response.headers["X-RateLimit-Limit"] == "1000"


async def test_request_id_is_echoed_on_success_and_error(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    ok = await gateway.get(REPORTS, headers={"X-API-Key": api_key, "X-Request-ID": "req-1"})
    failed = await gateway.get(REPORTS, headers={"X-Request-ID": "req-2"})

    assert ok.headers["X-Request-ID"] == "req-1" and (await ok.json())["request_id"] == "req-1"
    assert failed.headers["X-Request-ID"] == "req-2"
    assert (await failed.json())["request_id"] == "req-2"


@pytest.mark.parametrize("sent", [None, "has spaces", "x" * 200])
async def test_request_id_is_generated_when_missing_or_unusable(
    gateway: TestClient[Any, Any], sent: str | None
) -> None:
    response = await gateway.get("/health/", headers={"X-Request-ID": sent} if sent else {})

    generated = response.headers["X-Request-ID"]
    assert generated != sent
    assert UUID(hex=generated)
