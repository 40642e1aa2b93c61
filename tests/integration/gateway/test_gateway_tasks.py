"""Task views, reports, cancel, listings and queue status through the real stack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import asyncpg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient

from packguard.common import keys, lua
from packguard.common.report import AnalysisReport, PackageInfo, Verdict, VerdictLabel
from packguard.common.storage import ReportStore
from packguard.common.streams import ensure_group

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeKey

pytestmark = pytest.mark.integration

SIX = "pkg:pypi/six@1.16.0"
SetTask = Callable[..., Awaitable[None]]


def _auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


async def _new_task(gateway: TestClient[Any, Any], key: str, purl: str = SIX) -> str:
    response = await gateway.post("/api/v1/analyze/", json={"purl": purl}, headers=_auth(key))
    assert response.status == 202, await response.text()
    return str((await response.json())["data"]["task_id"])


async def _get(gateway: TestClient[Any, Any], path: str, key: str) -> tuple[int, dict[str, Any]]:
    response = await gateway.get(path, headers=_auth(key))
    return response.status, await response.json()


async def test_task_view_shows_the_row(
    gateway: TestClient[Any, Any], api_key: str, set_task: SetTask
) -> None:
    task_id = await _new_task(gateway, api_key)
    await set_task(
        task_id,
        status="failed",
        attempts=3,
        error_category="not_found",
        error_message="no such release",
        phase="download",
    )

    status, body = await _get(gateway, f"/api/v1/task/{task_id}/", api_key)

    assert status == 200
    data = body["data"]
    assert data["task_id"] == task_id and data["purl"] == SIX and data["ecosystem"] == "pypi"
    assert data["status"] == "failed" and data["attempts"] == 3 and data["phase"] == "download"
    assert data["error"] == {"category": "not_found", "message": "no such release"}
    assert data["verdict"] is None and data["queue_position"] is None
    assert data["links"]["status"].endswith(f"/api/v1/task/{task_id}/")
    assert data["created_at"] and data["started_at"] is None


@pytest.mark.parametrize("task_id", ["not-a-uuid", str(uuid4()), "1' OR '1'='1"])
async def test_task_unknown_or_invalid_id_is_404(
    gateway: TestClient[Any, Any], api_key: str, task_id: str
) -> None:
    status, body = await _get(gateway, f"/api/v1/task/{task_id}/", api_key)

    assert status == 404 and body["error"]["code"] == "not_found"


async def test_task_of_another_key_is_404_for_every_route(
    gateway: TestClient[Any, Any], api_key: str, other_key: str, redis_client: redis.Redis
) -> None:
    task_id = await _new_task(gateway, other_key)

    for path in (f"/api/v1/task/{task_id}/", f"/api/v1/task/{task_id}/report/"):
        status, body = await _get(gateway, path, api_key)
        assert status == 404 and body["error"]["code"] == "not_found"
    response = await gateway.delete(f"/api/v1/task/{task_id}/", headers=_auth(api_key))
    assert response.status == 404
    assert await redis_client.exists(f"{keys.CANCEL_KEY_PREFIX}{task_id}") == 0


async def test_task_admin_sees_every_key_task(
    gateway: TestClient[Any, Any], make_key: MakeKey, other_key: str
) -> None:
    task_id = await _new_task(gateway, other_key)
    admin = await make_key("admin", admin=True)

    status, body = await _get(gateway, f"/api/v1/task/{task_id}/", admin)
    _, listing = await _get(gateway, "/api/v1/reports/", admin)

    assert status == 200 and body["data"]["task_id"] == task_id
    assert [item["task_id"] for item in listing["data"]["items"]] == [task_id]


async def _enqueue(client: redis.Redis, stream: str, count: int) -> list[int]:
    await ensure_group(client, stream, keys.RUNNERS_GROUP)
    enqueue = client.register_script(lua.ENQUEUE_READY)
    return [
        int(await enqueue(keys=[stream, f"{stream}{keys.SEQUENCE_SUFFIX}"], args=[b"{}"]))
        for _ in range(count)
    ]


async def test_task_queue_position_counts_reads_and_the_priority_stream(
    gateway: TestClient[Any, Any], api_key: str, redis_client: redis.Redis, set_task: SetTask
) -> None:
    normal = await _new_task(gateway, api_key)
    urgent = await _new_task(gateway, api_key, "pkg:npm/left-pad@1.3.0")
    seqs = await _enqueue(redis_client, keys.READY_STREAM, 5)
    await _enqueue(redis_client, keys.PRIORITY_STREAM, 3)
    await redis_client.xreadgroup(keys.RUNNERS_GROUP, "runner-1", {keys.READY_STREAM: ">"}, count=2)
    await set_task(normal, status="queued", queue_stream=keys.READY_STREAM, queue_seq=seqs[3])
    await set_task(urgent, status="queued", queue_stream=keys.PRIORITY_STREAM, queue_seq=2)

    _, normal_view = await _get(gateway, f"/api/v1/task/{normal}/", api_key)
    _, urgent_view = await _get(gateway, f"/api/v1/task/{urgent}/", api_key)

    # 2 of 5 read: 2 ahead on its own stream (it is 4th), plus 3 waiting on priority.
    assert normal_view["data"]["queue_position"] == 2 + 3
    assert urgent_view["data"]["queue_position"] == 2


def _report(label: VerdictLabel) -> AnalysisReport:
    return AnalysisReport(
        analyzer_version="0.1.0",
        package=PackageInfo(ecosystem="pypi", name="six", version="1.16.0"),
        artifacts=[],
        verdict=Verdict(label=label, score=9.5, summary="reads ~/.ssh"),
    )


async def test_report_of_completed_task_comes_from_s3(
    gateway: TestClient[Any, Any], api_key: str, set_task: SetTask, report_store: ReportStore
) -> None:
    task_id = await _new_task(gateway, api_key)
    document = _report(VerdictLabel.MALICIOUS)
    await report_store.put(
        f"reports/pypi/six/1.16.0/{task_id}.json", document.model_dump_json().encode()
    )
    await set_task(task_id, status="completed", verdict_label="malicious", verdict_score=9.5)

    status, body = await _get(gateway, f"/api/v1/task/{task_id}/report/", api_key)

    assert status == 200
    assert AnalysisReport.model_validate(body["data"]) == document


@pytest.mark.parametrize("state", ["pending", "queued", "running", "failed", "cancelled"])
async def test_report_before_completion_is_404_report_not_ready(
    gateway: TestClient[Any, Any], api_key: str, set_task: SetTask, state: str
) -> None:
    task_id = await _new_task(gateway, api_key)
    await set_task(task_id, status=state)

    status, body = await _get(gateway, f"/api/v1/task/{task_id}/report/", api_key)

    assert status == 404 and body["error"]["code"] == "report_not_ready"


async def test_report_missing_from_storage_is_404(
    gateway: TestClient[Any, Any], api_key: str, set_task: SetTask
) -> None:
    task_id = await _new_task(gateway, api_key)
    await set_task(task_id, status="completed", report_key=f"reports/missing/{uuid4()}.json")

    status, body = await _get(gateway, f"/api/v1/task/{task_id}/report/", api_key)

    assert status == 404 and body["error"]["code"] == "not_found"


@pytest.mark.parametrize("state", ["pending", "queued", "delayed", "running"])
async def test_cancel_in_flight_task_marks_it_and_flags_runners(
    gateway: TestClient[Any, Any],
    api_key: str,
    set_task: SetTask,
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    state: str,
) -> None:
    task_id = await _new_task(gateway, api_key)
    await set_task(task_id, status=state)

    response = await gateway.delete(f"/api/v1/task/{task_id}/", headers=_auth(api_key))

    assert response.status == 200
    data = (await response.json())["data"]
    assert data["status"] == "cancelled" and data["finished_at"] is not None
    row = await db_pool.fetchrow(
        "SELECT status, finished_at FROM tasks WHERE id = $1", UUID(task_id)
    )
    assert row["status"] == "cancelled" and row["finished_at"] is not None
    ttl = await redis_client.ttl(f"{keys.CANCEL_KEY_PREFIX}{task_id}")
    assert 0 < ttl <= 24 * 3600


@pytest.mark.parametrize("state", ["completed", "failed", "cancelled"])
async def test_cancel_final_task_is_409(
    gateway: TestClient[Any, Any], api_key: str, set_task: SetTask, state: str
) -> None:
    task_id = await _new_task(gateway, api_key)
    await set_task(task_id, status=state)

    response = await gateway.delete(f"/api/v1/task/{task_id}/", headers=_auth(api_key))

    assert response.status == 409
    assert (await response.json())["error"]["code"] == "conflict"


async def test_cancel_then_resubmit_creates_a_new_task(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    first = await _new_task(gateway, api_key)
    await gateway.delete(f"/api/v1/task/{first}/", headers=_auth(api_key))

    assert await _new_task(gateway, api_key) != first


async def test_reports_pages_newest_first_and_only_own_tasks(
    gateway: TestClient[Any, Any], api_key: str, other_key: str
) -> None:
    mine = [await _new_task(gateway, api_key, f"pkg:pypi/pkg{i}@1.0") for i in range(5)]
    await _new_task(gateway, other_key)

    _, first = await _get(gateway, "/api/v1/reports/?page_size=2", api_key)
    _, last = await _get(gateway, "/api/v1/reports/?page_size=2&page=3", api_key)
    _, beyond = await _get(gateway, "/api/v1/reports/?page_size=2&page=9", api_key)

    assert [item["task_id"] for item in first["data"]["items"]] == mine[::-1][:2]
    assert first["data"] | {"items": []} == {
        "items": [],
        "page": 1,
        "page_size": 2,
        "total": 5,
        "pages": 3,
    }
    assert [item["task_id"] for item in last["data"]["items"]] == [mine[0]]
    assert beyond["data"]["items"] == [] and beyond["data"]["total"] == 5


async def test_reports_filters_by_status_ecosystem_and_verdict(
    gateway: TestClient[Any, Any], api_key: str, set_task: SetTask
) -> None:
    npm = await _new_task(gateway, api_key, "pkg:npm/left-pad@1.3.0")
    bad = await _new_task(gateway, api_key, "pkg:pypi/evil@1.0")
    await _new_task(gateway, api_key, "pkg:pypi/fine@1.0")
    await set_task(bad, status="completed", verdict_label="malicious", verdict_score=9.0)

    async def ids(query: str) -> list[str]:
        status, body = await _get(gateway, f"/api/v1/reports/?{query}", api_key)
        assert status == 200
        return [item["task_id"] for item in body["data"]["items"]]

    assert await ids("ecosystem=npm") == [npm]
    assert await ids("status=completed") == [bad]
    assert await ids("verdict=malicious") == [bad]
    assert await ids("verdict=benign") == []
    assert len(await ids("status=pending&ecosystem=pypi")) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=101", "page_size"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("status=bogus", "status"),
        ("ecosystem=cargo", "ecosystem"),
        ("verdict=evil", "verdict"),
        ("sort=purl", "sort"),
    ],
)
async def test_reports_bad_query_is_400_invalid_input(
    gateway: TestClient[Any, Any], api_key: str, query: str, field: str
) -> None:
    status, body = await _get(gateway, f"/api/v1/reports/?{query}", api_key)

    assert status == 400
    assert body["error"]["code"] == "invalid_input" and field in body["error"]["fields"]


async def test_queue_status_counts_without_purls(
    gateway: TestClient[Any, Any],
    api_key: str,
    other_key: str,
    set_task: SetTask,
    redis_client: redis.Redis,
) -> None:
    await _new_task(gateway, other_key, "pkg:pypi/secret-internal-tool@1.0")
    running = await _new_task(gateway, api_key)
    await set_task(running, status="running")
    await _enqueue(redis_client, keys.READY_STREAM, 2)
    await redis_client.zadd(keys.DELAYED_ZSET, {"some-task": 1})

    response = await gateway.get("/api/v1/queue/status/", headers=_auth(api_key))

    text = await response.text()
    assert response.status == 200
    assert "secret-internal-tool" not in text and "six" not in text
    data = (await response.json())["data"]
    streams = {entry["stream"]: entry for entry in data["streams"]}
    assert streams[keys.SUBMITTED_STREAM]["length"] == 2
    assert streams[keys.SUBMITTED_STREAM]["lag"] == 2
    assert streams[keys.SUBMITTED_STREAM]["oldest_waiting_age_seconds"] >= 0
    assert streams[keys.READY_STREAM] | {"oldest_waiting_age_seconds": 0} == {
        "stream": keys.READY_STREAM,
        "group": keys.RUNNERS_GROUP,
        "length": 2,
        "pending": 0,
        "lag": 2,
        "oldest_waiting_age_seconds": 0,
    }
    assert streams[keys.PRIORITY_STREAM]["oldest_waiting_age_seconds"] is None
    assert data["delayed"] == 1 and data["running"] == 1
