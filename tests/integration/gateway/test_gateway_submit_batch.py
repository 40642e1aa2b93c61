"""Submissions of one event-loop tick share one statement (``tasks.submit_many``), and
each still gets exactly the answer it would get alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from packguard.common.purl import parse_purl
from packguard.gateway.credentials import key_id_of
from packguard.gateway.tasks import NewTask, submit_many

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeKey

pytestmark = pytest.mark.integration

VERSION = "analyzer-under-test"


async def _key_id(make_key: MakeKey, name: str) -> UUID:
    key_id = key_id_of(await make_key(name))
    assert key_id is not None
    return key_id


def _new(key_id: UUID, purl: str) -> NewTask:
    return NewTask(
        package=parse_purl(purl),
        api_key_id=key_id,
        priority=0,
        timeout_minutes=30,
        created_at=datetime.now(UTC),
        not_before=None,
        idempotency_key=None,
    )


async def test_a_batch_answers_each_submission_as_if_it_came_alone(
    db_pool: asyncpg.Pool, make_key: MakeKey
) -> None:
    key = await _key_id(make_key, "batch")
    [(_, in_flight)] = await submit_many(
        db_pool, [(_new(key, "pkg:npm/busy@1.0.0"), False)], analyzer_version=VERSION
    )
    [(_, done)] = await submit_many(
        db_pool, [(_new(key, "pkg:npm/done@1.0.0"), False)], analyzer_version=VERSION
    )
    await db_pool.execute(
        "UPDATE tasks SET status = 'completed', analyzer_version = $2, finished_at = now()"
        " WHERE id = $1",
        done.id,
        VERSION,
    )

    answers = await submit_many(
        db_pool,
        [
            (_new(key, "pkg:npm/fresh@1.0.0"), False),
            (_new(key, "pkg:npm/busy@1.0.0"), False),
            (_new(key, "pkg:npm/done@1.0.0"), False),
            (_new(key, "pkg:npm/other-fresh@2.0.0"), False),
        ],
        analyzer_version=VERSION,
    )

    assert [answer[0] if answer else None for answer in answers] == [
        "created",
        "deduplicated",
        "cached",
        "created",
    ]
    assert [answer[1].purl for answer in answers if answer] == [
        "pkg:npm/fresh@1.0.0",
        "pkg:npm/busy@1.0.0",
        "pkg:npm/done@1.0.0",
        "pkg:npm/other-fresh@2.0.0",
    ]
    assert answers[1] is not None and answers[1][1].id == in_flight.id
    assert answers[2] is not None and answers[2][1].id == done.id


async def test_force_skips_the_cache_in_a_batch(db_pool: asyncpg.Pool, make_key: MakeKey) -> None:
    key = await _key_id(make_key, "force")
    [(_, done)] = await submit_many(
        db_pool, [(_new(key, "pkg:npm/again@1.0.0"), False)], analyzer_version=VERSION
    )
    await db_pool.execute(
        "UPDATE tasks SET status = 'completed', analyzer_version = $2 WHERE id = $1",
        done.id,
        VERSION,
    )

    [answer] = await submit_many(
        db_pool, [(_new(key, "pkg:npm/again@1.0.0"), True)], analyzer_version=VERSION
    )

    assert answer is not None and answer[0] == "created" and answer[1].id != done.id


async def test_the_same_package_twice_in_a_batch_is_inserted_once(
    db_pool: asyncpg.Pool, make_key: MakeKey
) -> None:
    key = await _key_id(make_key, "twins")
    twin = "pkg:npm/twin@1.0.0"

    answers = await submit_many(
        db_pool, [(_new(key, twin), False), (_new(key, twin), False)], analyzer_version=VERSION
    )

    # One wins the insert; the other has no row and takes the step-by-step path.
    assert sorted(str(answer and answer[0]) for answer in answers) == ["None", "created"]
    rows = await db_pool.fetchval("SELECT count(*) FROM tasks WHERE purl = $1", twin)
    assert rows == 1


async def test_concurrent_posts_of_one_package_get_one_task(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    responses = await asyncio.gather(
        *(
            gateway.post(
                "/api/v1/analyze/",
                json={"purl": "pkg:npm/stampede@1.0.0"},
                headers={"X-API-Key": api_key},
            )
            for _ in range(6)
        )
    )

    bodies = [(response.status, (await response.json())["data"]) for response in responses]
    assert sorted(status for status, _ in bodies) == [200] * 5 + [202]
    assert {data["task_id"] for _, data in bodies} == {bodies[0][1]["task_id"]}
    assert sorted(data["outcome"] for _, data in bodies) == ["created"] + ["deduplicated"] * 5


async def test_two_gateways_batches_in_opposite_orders_never_deadlock(
    db_pool: asyncpg.Pool, make_key: MakeKey
) -> None:
    # Two gateway replicas coalesce the same packages in different orders. Rows inserted
    # in each batch's own order would lock the unique index's entries from both ends and
    # meet in the middle: a deadlock, and one whole batch failing.
    key = await _key_id(make_key, "two-gateways")
    async with db_pool.acquire(), db_pool.acquire():
        pass  # both connections open, so the two batches really run at once
    for round_ in range(3):
        purls = [f"pkg:npm/race-{round_}-{i:04d}@1.0.0" for i in range(1500)]
        forward = [(_new(key, purl), False) for purl in purls]
        backward = [(_new(key, purl), False) for purl in reversed(purls)]
        first, second = await asyncio.gather(
            submit_many(db_pool, forward, analyzer_version=VERSION),
            submit_many(db_pool, backward, analyzer_version=VERSION),
        )
        outcomes = [answer[0] for answer in first + second if answer]
        assert outcomes.count("created") == len(purls)
        count = await db_pool.fetchval(
            "SELECT count(*) FROM tasks WHERE purl LIKE $1", f"pkg:npm/race-{round_}-%"
        )
        assert count == len(purls)
