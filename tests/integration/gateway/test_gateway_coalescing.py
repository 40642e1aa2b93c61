"""Concurrent requests share their lookups (one query or pipeline per event-loop tick)
and each still gets exactly its own answer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from packguard.gateway.apikeys import revoke_api_key
from packguard.gateway.credentials import key_id_of

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeKey

pytestmark = pytest.mark.integration

REPORTS = "/api/v1/reports/"


async def test_concurrent_requests_are_counted_exactly_by_the_rate_limit(
    gateway: TestClient[Any, Any], make_key: MakeKey
) -> None:
    key = await make_key("limited", rate_limit=5)

    responses = await asyncio.gather(
        *(gateway.get(REPORTS, headers={"X-API-Key": key}) for _ in range(12))
    )

    statuses = sorted(response.status for response in responses)
    assert statuses == [200] * 5 + [429] * 7
    remaining = sorted(
        int(r.headers["X-RateLimit-Remaining"]) for r in responses if r.status == 200
    )
    assert remaining == [0, 1, 2, 3, 4]


async def test_concurrent_requests_of_two_keys_each_see_their_own_key_and_tasks(
    gateway: TestClient[Any, Any], make_key: MakeKey
) -> None:
    keys = [await make_key("first"), await make_key("second")]
    created = await asyncio.gather(
        *(
            gateway.post(
                "/api/v1/analyze/",
                json={"purl": f"pkg:npm/own-{i}@1.0.0"},
                headers={"X-API-Key": key},
            )
            for i, key in enumerate(keys)
        )
    )
    ids = [(await response.json())["data"]["task_id"] for response in created]

    views = await asyncio.gather(
        *(
            gateway.get(f"/api/v1/task/{task_id}/", headers={"X-API-Key": key})
            for task_id in ids
            for key in keys
        )
    )

    # (task 0, key 0), (task 0, key 1), (task 1, key 0), (task 1, key 1)
    assert [view.status for view in views] == [200, 404, 404, 200]


async def test_revoked_key_is_refused_even_among_concurrent_requests(
    gateway: TestClient[Any, Any], make_key: MakeKey, db_pool: asyncpg.Pool
) -> None:
    live, doomed = await make_key("live"), await make_key("doomed")
    doomed_id = key_id_of(doomed)
    assert doomed_id is not None
    await revoke_api_key(db_pool, doomed_id)

    responses = await asyncio.gather(
        *(gateway.get(REPORTS, headers={"X-API-Key": key}) for key in [live, doomed] * 4)
    )

    assert [response.status for response in responses] == [200, 401] * 4
