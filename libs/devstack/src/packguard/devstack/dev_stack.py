"""The whole local stack behind `make up`: servers, engine, images, services, dev API key.

`start_stack` brings the dependencies; this adds the analyzer image (built from the
checkout), the four services and an admin key, and writes `<state>/env` with everything
a shell or `packguard submit` needs (PACKGUARD_URL, PACKGUARD_API_KEY included).
"""

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from packguard.devstack.analyzer_image import ensure_analyzer_image
from packguard.devstack.base_image import ensure_base_image
from packguard.devstack.checkout import find_repo_root
from packguard.devstack.dev_api_key import (
    create_dev_api_key,
    ensure_dev_api_key,
    is_key_accepted,
    read_dev_api_key,
)
from packguard.devstack.docker_engine import ensure_docker_engine
from packguard.devstack.environment import connection_env, write_env_file
from packguard.devstack.failures import raise_any
from packguard.devstack.layout import StateLayout, default_state_dir
from packguard.devstack.locks import hold_lock
from packguard.devstack.running_stack import RunningStack
from packguard.devstack.services import (
    SERVICES,
    RunningServices,
    check_installed,
    read_gateway_url,
    start_services,
)
from packguard.devstack.stack import read_running_stack, start_stack

log = logging.getLogger(__name__)

# Held while the analyzer image builds (a cold build takes a minute or so).
LOCK_TIMEOUT_SECONDS = 1800.0
ANALYZER_IMAGE_LOG = "analyzer-image"
API_KEY_LOG = "dev-api-key"


@dataclass(frozen=True)
class DevStack:
    """A started dev stack; `services` is None with `with_services=False`."""

    stack: RunningStack
    analyzer_image: str | None = None
    services: RunningServices | None = None
    api_key: str | None = None

    @property
    def gateway_url(self) -> str | None:
        return self.services.gateway_url if self.services else None


def dev_env(stack: RunningStack, *, gateway_url: str | None, api_key: str | None) -> dict[str, str]:
    """connection_env(stack) plus PACKGUARD_URL and PACKGUARD_API_KEY when known."""
    env = connection_env(stack)
    if gateway_url:
        env["PACKGUARD_URL"] = gateway_url
    if api_key:
        env["PACKGUARD_API_KEY"] = api_key
    return env


def read_dev_env(state_dir: Path | None = None) -> dict[str, str] | None:
    """dev_env of the recorded stack if its servers run; no probes, no changes."""
    stack = read_running_stack(state_dir)
    if stack is None:
        return None
    return dev_env(
        stack,
        gateway_url=read_gateway_url(stack.state_dir),
        api_key=read_dev_api_key(stack.state_dir),
    )


async def start_dev_stack(
    state_dir: Path | None = None,
    *,
    free_ports: bool = False,
    with_docker: bool = True,
    with_services: bool = True,
    rebuild_image: bool = False,
) -> DevStack:
    """Start (or reuse) the servers and, with `with_services`, image, services and key.

    Without the engine (`with_docker=False`) the runner is skipped: it has nothing to run
    analyses in. Services that are missing from the venv fail this before anything starts.
    """
    if with_services:
        check_installed(s for s in SERVICES if with_docker or not s.needs_docker)
    repo_root = find_repo_root() if with_services else None
    stack = await start_stack(state_dir, free_ports=free_ports, with_docker=with_docker)
    layout = StateLayout(stack.state_dir)
    if repo_root is None:
        # The env file start_stack wrote would drop a gateway left running by a full `up`.
        env = read_dev_env(layout.root) or connection_env(stack)
        write_env_file(layout.env_file, env)
        return DevStack(stack)
    async with hold_lock(layout.lock_file, timeout=LOCK_TIMEOUT_SECONDS, what=str(layout.root)):
        image, (api_key, created) = await _image_and_key(stack, layout, repo_root, rebuild_image)
        services = await start_services(
            stack, repo_root=repo_root, analyzer_image=image, free_ports=free_ports
        )
        url = services.gateway_url
        if not created and url and not await is_key_accepted(url, api_key):
            log.warning("the gateway refuses the recorded dev API key (revoked?): replacing it")
            api_key = await create_dev_api_key(
                layout.root, _database_url(stack), log_path=layout.log_file(API_KEY_LOG)
            )
        write_env_file(layout.env_file, dev_env(stack, gateway_url=url, api_key=api_key))
    return DevStack(stack, image, services, api_key)


async def ensure_images(state_dir: Path | None = None, *, rebuild: bool = False) -> str:
    """Engine, base image and analyzer image (built from the checkout); the analyzer's name."""
    layout = StateLayout((state_dir or default_state_dir()).absolute())
    layout.create()
    docker_host = await ensure_docker_engine()
    await ensure_base_image(docker_host, log_path=layout.log_file("base-image"))
    return await ensure_analyzer_image(
        docker_host,
        repo_root=find_repo_root(),
        log_path=layout.log_file(ANALYZER_IMAGE_LOG),
        rebuild=rebuild,
        state_dir=layout.root,
    )


async def _image_and_key(
    stack: RunningStack, layout: StateLayout, repo_root: Path, rebuild: bool
) -> tuple[str | None, tuple[str, bool]]:
    """Build the image and get the key side by side (independent; both can take a while)."""

    async def image() -> str | None:
        if stack.docker_host is None:
            return None
        return await ensure_analyzer_image(
            stack.docker_host,
            repo_root=repo_root,
            log_path=layout.log_file(ANALYZER_IMAGE_LOG),
            rebuild=rebuild,
            state_dir=layout.root,
        )

    image_task = asyncio.create_task(image())
    key_task = asyncio.create_task(
        ensure_dev_api_key(layout.root, _database_url(stack), log_path=layout.log_file(API_KEY_LOG))
    )
    outcomes = await asyncio.gather(image_task, key_task, return_exceptions=True)
    raise_any([o for o in outcomes if isinstance(o, BaseException)])
    return image_task.result(), key_task.result()


def _database_url(stack: RunningStack) -> str:
    return connection_env(stack)["DATABASE_URL"]
