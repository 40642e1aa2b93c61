"""Per-ecosystem caps hold across runners: leases in real Redis."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
import redis.asyncio as redis

from packguard.common import keys
from packguard.runner.slots import EcosystemSlots

pytestmark = pytest.mark.integration


async def test_second_task_waits_until_the_capped_slot_is_released(
    redis_client: redis.Redis,
) -> None:
    slots = EcosystemSlots(redis_client, {"pypi": 1}, lease_seconds=30, poll_seconds=0.02)
    first_in = asyncio.Event()
    release_first = asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with slots.held("pypi", uuid4()):
            order.append("first")
            first_in.set()
            await release_first.wait()

    async def second() -> None:
        await first_in.wait()
        async with slots.held("pypi", uuid4()):
            order.append("second")

    waiting = asyncio.gather(first(), second())
    await first_in.wait()
    await asyncio.sleep(0.1)
    assert order == ["first"]
    release_first.set()
    await waiting
    assert order == ["first", "second"]
    assert await redis_client.zcard(keys.SLOTS_KEY_PREFIX + "pypi") == 0


async def test_uncapped_ecosystem_takes_no_lease(redis_client: redis.Redis) -> None:
    slots = EcosystemSlots(redis_client, {"pypi": 1}, lease_seconds=30)
    async with slots.held("npm", uuid4()):
        assert await redis_client.exists(keys.SLOTS_KEY_PREFIX + "npm") == 0


async def test_lease_of_a_dead_runner_expires(redis_client: redis.Redis) -> None:
    await redis_client.zadd(keys.SLOTS_KEY_PREFIX + "pypi", {"dead-runner-task": 1})
    slots = EcosystemSlots(redis_client, {"pypi": 1}, lease_seconds=30, poll_seconds=0.02)
    async with asyncio.timeout(5), slots.held("pypi", uuid4()):
        pass
