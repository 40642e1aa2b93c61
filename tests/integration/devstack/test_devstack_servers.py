"""Real servers in a tmp state dir, on free loopback ports."""

import os
import signal
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio

from packguard.devstack import connection_env, start_stack, stop_stack
from packguard.devstack.ports import is_port_free
from packguard.devstack.processes import is_running
from packguard.devstack.s3_server import s3_client

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_start_stack_free_ports_every_server_answers_then_stops(tmp_path: Path) -> None:
    stack = await start_stack(tmp_path / "state", free_ports=True, with_docker=False)
    try:
        env = connection_env(stack)
        assert f"export REDIS_URL={env['REDIS_URL']}\n" in (stack.state_dir / "env").read_text()

        client = redis.asyncio.Redis.from_url(env["REDIS_URL"])
        await client.xadd("devstack-test", {"k": "v"})
        assert await client.xlen("devstack-test") == 1
        await client.aclose()

        connection = await asyncpg.connect(env["DATABASE_URL"])
        await connection.execute("CREATE TABLE probe (id int PRIMARY KEY)")
        await connection.execute("INSERT INTO probe VALUES (1)")
        assert await connection.fetchval("SELECT count(*) FROM probe") == 1
        await connection.close()

        async with s3_client(env["S3_ENDPOINT_URL"]) as s3:
            await s3.put_object(Bucket=env["S3_BUCKET"], Key="a/b.json", Body=b"{}")
            response = await s3.get_object(Bucket=env["S3_BUCKET"], Key="a/b.json")
            assert await response["Body"].read() == b"{}"
    finally:
        await stop_stack(stack.state_dir, purge=True)

    for record in stack.components.values():
        assert not is_running(record.pid)
        assert is_port_free(record.port)
    assert not stack.state_dir.exists()


async def test_start_stack_twice_reuses_and_restarts_a_killed_server(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = await start_stack(state_dir, free_ports=True, with_docker=False)
    try:
        second = await start_stack(state_dir, free_ports=True, with_docker=False)
        assert second.reused == {"redis", "postgres", "s3"}
        assert second.components == first.components

        os.kill(first.components["postgres"].pid, signal.SIGKILL)
        os.kill(first.components["redis"].pid, signal.SIGKILL)
        third = await start_stack(state_dir, free_ports=True, with_docker=False)
        assert third.reused == {"s3"}
        for name in ("redis", "postgres"):
            assert third.components[name].pid != first.components[name].pid
            assert third.components[name].port == first.components[name].port
        connection = await asyncpg.connect(connection_env(third)["DATABASE_URL"])
        assert await connection.fetchval("SELECT 1") == 1
        await connection.close()
    finally:
        await stop_stack(state_dir, purge=True)
