"""The services' Redis client rides out a Redis restart instead of failing its caller."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis

from packguard.common.redis_client import create_redis
from packguard.devstack import connection_env, restart_server, start_stack, stop_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def _wait_blocked(observer: redis.Redis, command: str) -> None:
    """Poll CLIENT LIST until some client is blocked in ``command``."""
    async with asyncio.timeout(10):
        while not any(c.get("cmd") == command for c in await observer.client_list()):
            await asyncio.sleep(0.02)


async def test_create_redis_blocked_read_survives_a_redis_restart(tmp_path: Path) -> None:
    # Its own stack: restarting the session's Redis would disturb other tests.
    stack = await start_stack(tmp_path / "state", free_ports=True, with_docker=False)
    url = connection_env(stack)["REDIS_URL"]
    client = create_redis(url)
    try:
        await client.xgroup_create("restart-stream", "g", id="0", mkstream=True)

        async def blocked_read() -> Any:
            return await client.xreadgroup("g", "c", {"restart-stream": ">"}, count=1, block=10_000)

        read = asyncio.create_task(blocked_read())
        observer = redis.Redis.from_url(url)
        await _wait_blocked(observer, "xreadgroup")
        await observer.aclose()

        await restart_server("redis", stack.state_dir)
        publisher = redis.Redis.from_url(url)
        await publisher.xadd("restart-stream", {"k": "v"})
        await publisher.aclose()

        async with asyncio.timeout(30):
            response = await read
        [(_, [(_, fields)])] = response
        assert fields == {b"k": b"v"}
    finally:
        await client.aclose()
        await stop_stack(stack.state_dir, purge=True)
