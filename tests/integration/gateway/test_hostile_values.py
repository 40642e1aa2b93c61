"""Unicode and SQL-looking input: refused with a clear 400 and echoed exactly, or stored
and shown verbatim; never an error, never a change to the tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from packguard.gateway.apikeys import list_api_keys
from tests.integration.gateway.hostile_client import (
    ANALYZE,
    REPORTS,
    assert_still_serving,
    bearer,
    error_of,
    task_count,
)

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeKey

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "purl",
    [
        "pkg:pypi/ünïcödé@1.0",
        "pkg:pypi/%F0%9F%98%80@1.0",
        "pkg:npm/\u0455ix@1.0.0",  # Cyrillic dze, a homoglyph of "s"
        "pkg:pypi/\uff53\uff49\uff58@1.16.0",  # full-width "six"
        "pkg:pypi/six\u202e@1.16.0",  # right-to-left override
        "pkg:pypi/six\u200d@1.16.0",  # zero-width joiner
        "pkg:pypi/six@1.16.0\u0000",
        "pkg:pypi/six@\u0661.\u0661\u0666",  # Arabic-Indic digits
        "pkg:ñpm/six@1.0",
        "😀" * 100,
    ],
)
async def test_unicode_purls_are_400_and_echoed_verbatim(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool, purl: str
) -> None:
    response = await gateway.post(ANALYZE, json={"purl": purl}, headers=bearer(api_key))

    assert response.status == 400
    error = await error_of(response)
    assert error["code"] in {"invalid_purl", "unsupported_ecosystem"}
    assert error["fields"]["purl"] == purl
    assert await task_count(db_pool) == 0


async def test_lone_surrogate_in_json_is_400(gateway: TestClient[Any, Any], api_key: str) -> None:
    response = await gateway.post(
        ANALYZE,
        data=b'{"purl": "pkg:pypi/\\ud800@1.0"}',
        headers=bearer(api_key) | {"Content-Type": "application/json"},
    )

    assert response.status == 400
    assert (await error_of(response))["code"] == "invalid_input"


async def test_sql_looking_purl_is_stored_and_echoed_verbatim(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool
) -> None:
    purl = "pkg:npm/drop-table-tasks--@1.0.0-or-1--1"

    submitted = await gateway.post(ANALYZE, json={"purl": purl}, headers=bearer(api_key))
    task_id = UUID((await submitted.json())["data"]["task_id"])
    shown = await gateway.get(f"/api/v1/task/{task_id}/", headers=bearer(api_key))

    assert submitted.status == 202
    assert (await shown.json())["data"]["purl"] == purl
    row = await db_pool.fetchrow("SELECT purl, name, version FROM tasks WHERE id = $1", task_id)
    assert row is not None
    assert tuple(row.values()) == (purl, "drop-table-tasks--", "1.0.0-or-1--1")


async def test_sql_injection_in_a_purl_is_400_echoed_and_harmless(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool
) -> None:
    purl = "pkg:pypi/robert%27%29%3B%20DROP%20TABLE%20tasks%3B--@1.0"

    response = await gateway.post(ANALYZE, json={"purl": purl}, headers=bearer(api_key))

    assert response.status == 400
    error = await error_of(response)
    assert error["code"] == "invalid_purl" and error["fields"]["purl"] == purl
    assert "'); drop table tasks;--" in error["message"].lower()
    assert await task_count(db_pool) == 0
    await assert_still_serving(gateway, api_key)


async def test_sql_looking_idempotency_key_is_stored_verbatim_and_replays(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool
) -> None:
    idempotency_key = "');DROP/**/TABLE/**/tasks;--"
    headers = bearer(api_key) | {"X-Idempotency-Key": idempotency_key}
    body = {"purl": "pkg:pypi/six@1.16.0"}

    first = await gateway.post(ANALYZE, json=body, headers=headers)
    again = await gateway.post(ANALYZE, json=body, headers=headers)

    task_id = (await first.json())["data"]["task_id"]
    assert first.status == 202 and (await again.json())["data"]["task_id"] == task_id
    stored = await db_pool.fetchval("SELECT idempotency_key FROM tasks WHERE id = $1", task_id)
    assert stored == idempotency_key


async def test_sql_looking_key_name_is_stored_verbatim_and_the_key_works(
    gateway: TestClient[Any, Any], make_key: MakeKey, db_pool: asyncpg.Pool
) -> None:
    name = "Robert'); DROP TABLE api_keys;-- \u00e9\u4e2d"

    key = await make_key(name)

    await assert_still_serving(gateway, key)
    assert [stored.name for stored in await list_api_keys(db_pool)] == [name]


@pytest.mark.parametrize(
    "query",
    [
        "status=completed' OR '1'='1",
        "page=1;DROP TABLE tasks",
        "ecosystem=pypi'--",
        "verdict=%00",
        "page_size=1e9",
        "%ff%fe=1",
        "x" * 4000 + "=1",
    ],
)
async def test_hostile_query_strings_are_400_invalid_input(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool, query: str
) -> None:
    response = await gateway.get(f"{REPORTS}?{query}", headers=bearer(api_key))

    assert response.status == 400
    assert (await error_of(response))["code"] == "invalid_input"
    assert await task_count(db_pool) == 0


@pytest.mark.parametrize(
    "task_id",
    ["1' OR '1'='1", "00000000-0000-0000-0000-000000000000';--", "%00", "..%2F..%2Fetc"],
)
async def test_hostile_task_ids_are_404(
    gateway: TestClient[Any, Any], api_key: str, task_id: str
) -> None:
    response = await gateway.get(f"/api/v1/task/{task_id}/", headers=bearer(api_key))

    assert response.status == 404
    assert (await error_of(response))["code"] == "not_found"
