"""POST /api/v1/analyze/: new tasks, dedup, cache, idempotency and every bad input."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient

from packguard.common import keys
from packguard.common.messages import TaskMessage, decode_message
from packguard.common.tracing import configure_tracing

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeKey

pytestmark = pytest.mark.integration

ANALYZE = "/api/v1/analyze/"
SIX = "pkg:pypi/six@1.16.0"
SetTask = Callable[..., Awaitable[None]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _submit(
    gateway: TestClient[Any, Any], key: str, body: Any, **headers: str
) -> tuple[int, dict[str, Any]]:
    response = await gateway.post(ANALYZE, json=body, headers=bearer(key) | headers)
    return response.status, await response.json()


async def _submitted(client: redis.Redis) -> list[TaskMessage]:
    entries = await client.xrange(keys.SUBMITTED_STREAM)
    return [decode_message(TaskMessage, fields) for _, fields in entries]


async def test_analyze_new_purl_stores_pending_row_and_publishes_202(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool, redis_client: redis.Redis
) -> None:
    configure_tracing("gateway-test")
    status, body = await _submit(gateway, api_key, {"purl": "pkg:pypi/Six@1.16.0", "priority": 7})

    assert status == 202
    assert body["success"] is True and body["request_id"]
    data = body["data"]
    task_id = UUID(data["task_id"])
    assert data["status"] == "pending" and data["outcome"] == "created"
    assert data["status_url"].endswith(f"/api/v1/task/{task_id}/")
    assert data["report_url"].endswith(f"/api/v1/task/{task_id}/report/")
    row = await db_pool.fetchrow("SELECT * FROM tasks WHERE id = $1", task_id)
    assert row["status"] == "pending" and row["attempts"] == 0
    assert (row["purl"], row["ecosystem"], row["name"]) == (SIX, "pypi", "six")
    assert row["priority"] == 7 and row["timeout_minutes"] == 30
    [message] = await _submitted(redis_client)
    assert message.task_id == task_id and message.purl == SIX and message.attempt == 1
    assert message.priority == 7 and message.ecosystem == "pypi" and message.timeout_minutes == 30
    assert message.created_at == row["created_at"]
    assert "traceparent" in message.trace_context


async def test_analyze_with_delay_sets_not_before(
    gateway: TestClient[Any, Any], api_key: str, redis_client: redis.Redis
) -> None:
    status, body = await _submit(gateway, api_key, {"purl": SIX, "delay_seconds": 600})

    assert status == 202 and body["data"]["status"] == "pending"
    [message] = await _submitted(redis_client)
    assert message.not_before is not None
    assert 590 <= (message.not_before - message.created_at).total_seconds() <= 600


async def test_analyze_same_purl_in_flight_returns_existing_task_200(
    gateway: TestClient[Any, Any], api_key: str, redis_client: redis.Redis
) -> None:
    _, first = await _submit(gateway, api_key, {"purl": SIX})
    status, second = await _submit(gateway, api_key, {"purl": "pkg:pypi/SIX@1.16.0", "force": True})

    assert status == 200
    assert second["data"]["task_id"] == first["data"]["task_id"]
    assert second["data"]["outcome"] == "deduplicated"
    assert len(await _submitted(redis_client)) == 1


async def test_analyze_same_purl_from_another_key_is_a_new_task(
    gateway: TestClient[Any, Any], api_key: str, other_key: str
) -> None:
    _, first = await _submit(gateway, api_key, {"purl": SIX})
    status, second = await _submit(gateway, other_key, {"purl": SIX})

    assert status == 202
    assert second["data"]["task_id"] != first["data"]["task_id"]


async def test_analyze_completed_by_current_analyzer_is_cached_unless_forced(
    gateway: TestClient[Any, Any], api_key: str, set_task: SetTask
) -> None:
    _, first = await _submit(gateway, api_key, {"purl": SIX})
    task_id = first["data"]["task_id"]
    await set_task(
        task_id,
        status="completed",
        analyzer_version="0.1.0",
        verdict_label="benign",
        verdict_score=0.0,
    )

    status, cached = await _submit(gateway, api_key, {"purl": SIX})
    assert status == 200
    assert cached["data"] | {"status_url": "", "report_url": ""} == {
        "task_id": task_id,
        "status": "completed",
        "outcome": "cached",
        "status_url": "",
        "report_url": "",
    }

    status, forced = await _submit(gateway, api_key, {"purl": SIX, "force": True})
    assert status == 202
    assert forced["data"]["task_id"] != task_id


async def test_analyze_completed_by_older_analyzer_is_not_cached(
    gateway: TestClient[Any, Any], api_key: str, set_task: SetTask
) -> None:
    _, first = await _submit(gateway, api_key, {"purl": SIX})
    await set_task(first["data"]["task_id"], status="completed", analyzer_version="0.0.1")

    status, second = await _submit(gateway, api_key, {"purl": SIX})

    assert status == 202 and second["data"]["outcome"] == "created"


async def test_analyze_cached_from_another_key_gives_caller_its_own_completed_task(
    gateway: TestClient[Any, Any], api_key: str, other_key: str, set_task: SetTask
) -> None:
    _, first = await _submit(gateway, other_key, {"purl": SIX})
    await set_task(
        first["data"]["task_id"],
        status="completed",
        analyzer_version="0.1.0",
        verdict_label="suspicious",
        verdict_score=6.5,
        report_key="reports/x.json",
    )

    status, cached = await _submit(gateway, api_key, {"purl": SIX})

    assert status == 200 and cached["data"]["outcome"] == "cached"
    own_id = cached["data"]["task_id"]
    assert own_id != first["data"]["task_id"]
    view = await (await gateway.get(f"/api/v1/task/{own_id}/", headers=bearer(api_key))).json()
    assert view["data"]["status"] == "completed"
    assert view["data"]["verdict"] == {"label": "suspicious", "score": 6.5}


async def test_analyze_idempotency_key_replays_original_answer(
    gateway: TestClient[Any, Any], api_key: str, redis_client: redis.Redis, set_task: SetTask
) -> None:
    header = {"X-Idempotency-Key": "order-42"}
    status, first = await _submit(gateway, api_key, {"purl": SIX}, **header)
    assert status == 202
    await set_task(first["data"]["task_id"], status="failed", error_category="timeout")

    status, replay = await _submit(gateway, api_key, {"purl": SIX}, **header)

    assert status == 202
    assert replay["data"]["task_id"] == first["data"]["task_id"]
    assert replay["data"]["outcome"] == "created"
    assert len(await _submitted(redis_client)) == 1


async def test_analyze_idempotency_key_replays_a_dedup_answer_as_200(
    gateway: TestClient[Any, Any], api_key: str, set_task: SetTask
) -> None:
    _, original = await _submit(gateway, api_key, {"purl": SIX})
    status, dedup = await _submit(gateway, api_key, {"purl": SIX}, **{"X-Idempotency-Key": "k1"})
    assert status == 200
    await set_task(original["data"]["task_id"], status="failed")

    status, replay = await _submit(gateway, api_key, {"purl": SIX}, **{"X-Idempotency-Key": "k1"})

    assert status == 200
    assert replay["data"]["task_id"] == dedup["data"]["task_id"] == original["data"]["task_id"]


async def test_analyze_idempotency_key_survives_a_redis_flush(
    gateway: TestClient[Any, Any], api_key: str, redis_client: redis.Redis
) -> None:
    _, first = await _submit(gateway, api_key, {"purl": SIX}, **{"X-Idempotency-Key": "k2"})
    await redis_client.flushdb()

    status, replay = await _submit(gateway, api_key, {"purl": SIX}, **{"X-Idempotency-Key": "k2"})

    assert status == 202 and replay["data"]["task_id"] == first["data"]["task_id"]


async def test_analyze_idempotency_key_reused_for_another_purl_is_409(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    await _submit(gateway, api_key, {"purl": SIX}, **{"X-Idempotency-Key": "k3"})

    status, body = await _submit(
        gateway, api_key, {"purl": "pkg:npm/left-pad@1.3.0"}, **{"X-Idempotency-Key": "k3"}
    )

    assert status == 409 and body["error"]["code"] == "conflict"


async def test_analyze_idempotency_key_of_another_api_key_is_independent(
    gateway: TestClient[Any, Any], api_key: str, other_key: str
) -> None:
    _, first = await _submit(gateway, api_key, {"purl": SIX}, **{"X-Idempotency-Key": "same"})
    status, second = await _submit(
        gateway, other_key, {"purl": SIX}, **{"X-Idempotency-Key": "same"}
    )

    assert status == 202 and second["data"]["task_id"] != first["data"]["task_id"]


async def test_analyze_concurrent_duplicates_create_one_task(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool
) -> None:
    results = await asyncio.gather(*(_submit(gateway, api_key, {"purl": SIX}) for _ in range(8)))

    statuses = sorted(status for status, _ in results)
    assert statuses.count(202) == 1 and statuses.count(200) == 7
    assert len({body["data"]["task_id"] for _, body in results}) == 1
    assert await db_pool.fetchval("SELECT count(*) FROM tasks") == 1


async def test_analyze_npm_scoped_purl_is_normalized(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool
) -> None:
    status, body = await _submit(gateway, api_key, {"purl": "pkg:npm/%40Babel/Core@7.22.0"})

    assert status == 202
    row = await db_pool.fetchrow("SELECT id, purl, name FROM tasks")
    assert str(row["id"]) == body["data"]["task_id"]
    assert row["name"] == "@babel/core"
    assert row["purl"] == "pkg:npm/%40babel/core@7.22.0"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"purl": "not-a-purl"}, "invalid_purl", None),
        ({"purl": "pkg:cargo/serde@1.0.0"}, "unsupported_ecosystem", None),
        ({"purl": "pkg:pypi/six"}, "missing_version", None),
        ({"purl": "pkg:pypi/six@1.16.0?arch=x86"}, "invalid_purl", None),
        ({"purl": "pkg:npm/../etc@1.0.0"}, "invalid_purl", None),
        ({"purl": ""}, "invalid_input", "purl"),
        ({}, "invalid_input", "purl"),
        ({"purl": 42}, "invalid_input", "purl"),
        ({"purl": SIX, "priority": 11}, "invalid_input", "priority"),
        ({"purl": SIX, "priority": -1}, "invalid_input", "priority"),
        ({"purl": SIX, "priority": "5"}, "invalid_input", "priority"),
        ({"purl": SIX, "priority": True}, "invalid_input", "priority"),
        ({"purl": SIX, "delay_seconds": -5}, "invalid_input", "delay_seconds"),
        ({"purl": SIX, "delay_seconds": 10**9}, "invalid_input", "delay_seconds"),
        ({"purl": SIX, "force": "yes"}, "invalid_input", "force"),
        ({"purl": SIX, "callback": "http://x"}, "invalid_input", "callback"),
        ([SIX], "invalid_input", "body"),
        ("pkg:pypi/six@1.16.0", "invalid_input", "body"),
    ],
)
async def test_analyze_bad_body_is_400_with_code(
    gateway: TestClient[Any, Any],
    api_key: str,
    redis_client: redis.Redis,
    body: Any,
    code: str,
    field: str | None,
) -> None:
    status, answer = await _submit(gateway, api_key, body)

    assert status == 400
    assert answer["success"] is False and answer["error"]["code"] == code
    if field is not None:
        assert field in answer["error"]["fields"]
    assert await _submitted(redis_client) == []


@pytest.mark.parametrize("raw", [b"{", b"{'purl': 1}", b"", b"\xff\xfe", b'{"purl": "x"} trailing'])
async def test_analyze_malformed_json_is_400_invalid_json(
    gateway: TestClient[Any, Any], api_key: str, raw: bytes
) -> None:
    response = await gateway.post(
        ANALYZE, data=raw, headers=bearer(api_key) | {"Content-Type": "application/json"}
    )

    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_analyze_wrong_content_type_is_415(
    gateway: TestClient[Any, Any], api_key: str, content_type: str | None
) -> None:
    headers = bearer(api_key) | ({"Content-Type": content_type} if content_type else {})
    response = await gateway.post(ANALYZE, data=json.dumps({"purl": SIX}).encode(), headers=headers)

    assert response.status == 415
    assert (await response.json())["error"]["code"] == "unsupported_media_type"


async def test_analyze_body_over_limit_is_413(gateway: TestClient[Any, Any], api_key: str) -> None:
    body = json.dumps({"purl": SIX, "pad": "x" * 10_000})
    response = await gateway.post(
        ANALYZE, data=body, headers=bearer(api_key) | {"Content-Type": "application/json"}
    )

    assert response.status == 413
    assert (await response.json())["error"]["code"] == "body_too_large"


async def test_analyze_chunked_body_over_limit_is_413(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    async def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1024

    response = await gateway.post(
        ANALYZE, data=chunks(), headers=bearer(api_key) | {"Content-Type": "application/json"}
    )

    assert response.status == 413
    assert (await response.json())["error"]["code"] == "body_too_large"


@pytest.mark.parametrize("value", ["", "x" * 256, "has space", "naïve"])
async def test_analyze_bad_idempotency_key_is_400(
    gateway: TestClient[Any, Any], api_key: str, value: str
) -> None:
    response = await gateway.post(
        ANALYZE,
        json={"purl": SIX},
        headers=bearer(api_key) | {"X-Idempotency-Key": value.encode().decode("latin-1")},
    )

    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_input"


async def test_analyze_with_redis_down_still_accepts_for_the_sweeper(
    make_gateway: Callable[..., Awaitable[TestClient[Any, Any]]],
    make_key: MakeKey,
    db_pool: asyncpg.Pool,
) -> None:
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    gateway = await make_gateway(redis_override=dead)
    key = await make_key()
    try:
        status, body = await _submit(gateway, key, {"purl": SIX})
    finally:
        await dead.aclose()

    assert status == 202
    status_row = await db_pool.fetchval(
        "SELECT status FROM tasks WHERE id = $1", UUID(body["data"]["task_id"])
    )
    assert status_row == "pending"
