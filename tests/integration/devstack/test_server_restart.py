"""One server down and back: same port, same data (AOF, cluster, objects)."""

from pathlib import Path

import asyncpg
import pytest
import redis.asyncio

from packguard.devstack import (
    ComponentFailed,
    connection_env,
    restart_server,
    start_server,
    start_stack,
    stop_server,
    stop_stack,
)
from packguard.devstack.ports import is_port_free
from packguard.devstack.processes import is_running
from packguard.devstack.s3_server import s3_client

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_restart_server_each_server_keeps_port_and_data(tmp_path: Path) -> None:
    stack = await start_stack(tmp_path / "state", free_ports=True, with_docker=False)
    env = connection_env(stack)
    try:
        client = redis.asyncio.Redis.from_url(env["REDIS_URL"])
        await client.xadd("restart-test", {"k": "v"})
        await client.aclose()
        connection = await asyncpg.connect(env["DATABASE_URL"])
        await connection.execute("CREATE TABLE probe (id int PRIMARY KEY)")
        await connection.execute("INSERT INTO probe VALUES (1)")
        await connection.close()
        async with s3_client(env["S3_ENDPOINT_URL"]) as s3:
            await s3.put_object(Bucket=env["S3_BUCKET"], Key="kept.json", Body=b"{}")

        for name in ("redis", "postgres", "s3"):
            before = stack.components[name]
            after = await restart_server(name, stack.state_dir)
            assert after.port == before.port
            assert after.pid != before.pid
            assert not is_running(before.pid)

        client = redis.asyncio.Redis.from_url(env["REDIS_URL"])
        assert await client.xlen("restart-test") == 1
        await client.aclose()
        connection = await asyncpg.connect(env["DATABASE_URL"])
        assert await connection.fetchval("SELECT count(*) FROM probe") == 1
        await connection.close()
        async with s3_client(env["S3_ENDPOINT_URL"]) as s3:
            response = await s3.get_object(Bucket=env["S3_BUCKET"], Key="kept.json")
            assert await response["Body"].read() == b"{}"
    finally:
        await stop_stack(stack.state_dir, purge=True)


async def test_stop_server_then_start_server_is_an_outage_on_the_same_port(
    tmp_path: Path,
) -> None:
    stack = await start_stack(tmp_path / "state", free_ports=True, with_docker=False)
    try:
        record = stack.components["redis"]
        await stop_server("redis", stack.state_dir)
        assert not is_running(record.pid)
        assert is_port_free(record.port)

        started = await start_server("redis", stack.state_dir)
        assert started.port == record.port
        again = await start_server("redis", stack.state_dir)
        assert again == started  # already running: left alone
    finally:
        await stop_stack(stack.state_dir, purge=True)


async def test_start_server_never_started_raises(tmp_path: Path) -> None:
    with pytest.raises(ComponentFailed):
        await start_server("redis", tmp_path / "empty")
