"""Keys and tenants, on every ``/api/v1/`` route the app's router has.

Routes are read from the running app, so a new route is covered without editing this
file: a missing, invalid or revoked key is 401 everywhere, the three are answered alike,
and another tenant's task is a 404 byte-for-byte like a task that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from packguard.gateway.apikeys import revoke_api_key
from packguard.gateway.credentials import key_id_of, new_key_text
from tests.integration.gateway.hostile_client import Route, key_required_routes

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeKey

pytestmark = pytest.mark.integration

ALICE_PURL = "pkg:npm/alice-private-package@9.9.9"


async def _call(
    gateway: TestClient[Any, Any], route: Route, headers: dict[str, str], task_id: object = None
) -> aiohttp.ClientResponse:
    # A JSON body that every body-taking route must reject or accept only after auth.
    body = {"purl": ALICE_PURL} if route.method == "POST" else None
    return await gateway.request(route.method, route.path(task_id), json=body, headers=headers)


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != "request_id"}


async def _assert_unauthorized_everywhere(
    gateway: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    routes = key_required_routes(gateway)
    assert len(routes) >= 6, routes
    answers = set()
    for route in routes:
        response = await _call(gateway, route, headers)
        body = await response.json()
        assert response.status == 401, (str(route), body)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "X-RateLimit-Limit" not in response.headers
        assert body["success"] is False and body["error"]["code"] == "unauthorized"
        answers.add(body["error"]["message"])
    # The same answer on every route: a refusal says nothing about what lies behind it.
    assert len(answers) == 1


async def test_every_api_route_without_a_key_is_401(gateway: TestClient[Any, Any]) -> None:
    await _assert_unauthorized_everywhere(gateway, {})


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer " + "k" * 8000},
        {"Authorization": "Bearer pgk_' OR '1'='1"},
        {"Authorization": "Token whatever"},
        {"Authorization": "Bearer"},
        {"X-API-Key": "clé-non-valide"},
        {"X-API-Key": new_key_text(uuid4())},
    ],
    ids=["garbage", "huge", "sql", "wrong-scheme", "bearer-without-key", "latin-1", "unknown-id"],
)
async def test_every_api_route_with_an_invalid_key_is_401(
    gateway: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    await _assert_unauthorized_everywhere(gateway, headers)


async def test_every_api_route_with_a_forged_secret_is_401(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    forged = api_key[: api_key.rindex("_") + 1] + "A" * 43

    await _assert_unauthorized_everywhere(gateway, {"X-API-Key": forged})


async def test_every_api_route_with_a_revoked_key_is_401(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool
) -> None:
    key_id = key_id_of(api_key)
    assert key_id is not None
    await revoke_api_key(db_pool, key_id)

    await _assert_unauthorized_everywhere(gateway, {"Authorization": f"Bearer {api_key}"})


async def test_missing_invalid_and_revoked_keys_get_the_same_answer(
    gateway: TestClient[Any, Any], make_key: MakeKey, db_pool: asyncpg.Pool
) -> None:
    revoked = await make_key("revoked")
    key_id = key_id_of(revoked)
    assert key_id is not None
    await revoke_api_key(db_pool, key_id)
    forged = revoked[: revoked.rindex("_") + 1] + "B" * 43
    attempts = [
        {"X-API-Key": revoked},
        {"X-API-Key": forged},
        {"X-API-Key": new_key_text(uuid4())},
        {"X-API-Key": "nonsense"},
    ]

    bodies = []
    for headers in attempts:
        response = await gateway.get("/api/v1/reports/", headers=headers)
        bodies.append(_comparable(await response.json()))

    # Revoked, wrong secret, unknown id and malformed are indistinguishable.
    assert all(body == bodies[0] for body in bodies)


async def _alice_task(gateway: TestClient[Any, Any], alice: str) -> str:
    response = await gateway.post(
        "/api/v1/analyze/", json={"purl": ALICE_PURL}, headers={"X-API-Key": alice}
    )
    assert response.status == 202
    return str((await response.json())["data"]["task_id"])


async def test_another_tenants_task_is_404_exactly_like_a_missing_one_on_every_route(
    gateway: TestClient[Any, Any], api_key: str, other_key: str
) -> None:
    alice_task = await _alice_task(gateway, api_key)
    bob = {"X-API-Key": other_key}
    routes = [route for route in key_required_routes(gateway) if route.has_task_id]
    assert routes

    for route in routes:
        theirs = await _call(gateway, route, bob, alice_task)
        missing = await _call(gateway, route, bob, uuid4())

        assert (theirs.status, missing.status) == (404, 404), str(route)
        assert _comparable(await theirs.json()) == _comparable(await missing.json()), str(route)
        assert set(theirs.headers) == set(missing.headers), str(route)
        assert alice_task not in await theirs.text()
    # Bob's attempts changed nothing of Alice's.
    mine = await gateway.get(f"/api/v1/task/{alice_task}/", headers={"X-API-Key": api_key})
    assert (await mine.json())["data"]["status"] == "pending"


async def test_routes_without_task_ids_never_show_another_tenants_task(
    gateway: TestClient[Any, Any], api_key: str, other_key: str
) -> None:
    alice_task = await _alice_task(gateway, api_key)
    bob = {"X-API-Key": other_key}
    routes = [route for route in key_required_routes(gateway) if not route.has_task_id]
    assert routes

    for route in routes:
        response = await _call(gateway, route, bob)

        assert response.status < 500, str(route)
        assert alice_task not in await response.text(), str(route)


async def test_another_tenants_idempotency_key_is_not_a_way_in(
    gateway: TestClient[Any, Any], api_key: str, other_key: str
) -> None:
    body = {"purl": ALICE_PURL}
    alice = await gateway.post(
        "/api/v1/analyze/", json=body, headers={"X-API-Key": api_key, "X-Idempotency-Key": "k1"}
    )
    bob = await gateway.post(
        "/api/v1/analyze/", json=body, headers={"X-API-Key": other_key, "X-Idempotency-Key": "k1"}
    )

    assert (alice.status, bob.status) == (202, 202)
    assert (await bob.json())["data"]["task_id"] != (await alice.json())["data"]["task_id"]
