"""The four service images and the backup job's, built from this checkout (`make images`).

The services share one recipe, `deploy/images/service.Dockerfile` with `SERVICE=<name>`;
the backup job (deploy/backup's scripts with pg_dump and aiobotocore) has
`deploy/images/backup.Dockerfile`. One offline context serves all five, assembled once
per build by `deploy/images/build-context.sh` (which runs the analyzer image's wheelhouse
script). Each image is tagged with a digest of what goes into it (its own sources,
packguard-common, the recipes, the pins), so an unchanged checkout reuses it and a change
builds only the images it touches; `:latest` follows the last ensure. Builds start FROM
the local BASE_IMAGE; users pass their own.
"""

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import aiodocker

from packguard.devstack.analyzer_image import TAG_LENGTH, send_build, write_context_tar
from packguard.devstack.base_image import BASE_IMAGE, image_exists
from packguard.devstack.checkout import find_repo_root
from packguard.devstack.commands import run_command
from packguard.devstack.dev_stack import ensure_images
from packguard.devstack.docker_engine import ensure_docker_engine
from packguard.devstack.errors import DevstackError, SetupError
from packguard.devstack.layout import StateLayout, default_state_dir
from packguard.devstack.locks import hold_lock
from packguard.devstack.source_digest import tree_digest

log = logging.getLogger(__name__)

SERVICE_NAMES = ("gateway", "scheduler", "runner", "reporter")
BACKUP = "backup"
IMAGE_NAMES = (*SERVICE_NAMES, BACKUP)
REPOSITORY_PREFIX = "localhost/packguard-"
LATEST_TAG = "latest"
IMAGE_DIR = Path("deploy/images")
DOCKERFILE = IMAGE_DIR / "service.Dockerfile"
BACKUP_DOCKERFILE = IMAGE_DIR / "backup.Dockerfile"
CONTEXT_SCRIPT = IMAGE_DIR / "build-context.sh"
# What every service image is made of besides its own distribution.
SHARED_SOURCES = (
    "libs/common/src",
    "libs/common/pyproject.toml",
    str(IMAGE_DIR),
    "libs/analyzer/image/build-context.sh",  # the wheelhouse script deploy/images runs
    "constraints.txt",
)
SERVICE_USER = "10001:10001"
ENTRYPOINT = "/opt/packguard/bin/packguard-service"
CONTEXT_TIMEOUT_SECONDS = 600.0  # pip downloads the dependency closure
BUILD_TIMEOUT_SECONDS = 900.0  # per image
LOCK_TIMEOUT_SECONDS = CONTEXT_TIMEOUT_SECONDS + 5 * BUILD_TIMEOUT_SECONDS  # five images
IMAGES_LOG = "service-images"


def service_tag(repo_root: Path, service: str) -> str:
    """The content-derived tag of `service`'s image (or BACKUP's) for `repo_root`."""
    if service == BACKUP:
        own: tuple[str, ...] = ("deploy/backup",)
    else:
        own = (f"services/{service}/src", f"services/{service}/pyproject.toml")
    return tree_digest(repo_root, (*own, *SHARED_SOURCES))[:TAG_LENGTH]


def service_repository(service: str) -> str:
    return f"{REPOSITORY_PREFIX}{service}"


def service_image_name(service: str, tag: str) -> str:
    return f"{service_repository(service)}:{tag}"


def service_build_args(service: str, base_image: str = BASE_IMAGE) -> dict[str, str]:
    if service == BACKUP:
        return {"BASE_IMAGE": base_image}
    return {"BASE_IMAGE": base_image, "SERVICE": service}


def dockerfile_of(service: str) -> str:
    """The recipe's name inside the build context."""
    return BACKUP_DOCKERFILE.name if service == BACKUP else "Dockerfile"


async def ensure_service_images(  # noqa: PLR0913 - keyword-only, all but two optional
    docker_host: str,
    *,
    repo_root: Path,
    log_path: Path,
    rebuild: bool = False,
    state_dir: Path | None = None,
    services: Sequence[str] = IMAGE_NAMES,
) -> dict[str, str]:
    """Image name by service (and BACKUP), building the missing ones (all with `rebuild`).

    Built FROM BASE_IMAGE, which must exist (see ensure_base_image); the context is
    assembled once in a temporary dir under `<state_dir>/build`; output goes to `log_path`.
    """
    unknown = sorted(set(services) - set(IMAGE_NAMES))
    if unknown:
        raise SetupError(f"no such service image: {', '.join(unknown)}")
    images = {name: service_image_name(name, service_tag(repo_root, name)) for name in services}
    build_root = (state_dir or default_state_dir()).absolute() / "build"
    if await _to_build(docker_host, images, rebuild=rebuild):
        _check_recipe(repo_root)
        build_root.mkdir(parents=True, exist_ok=True)
        async with hold_lock(
            build_root / "services.lock", timeout=LOCK_TIMEOUT_SECONDS, what="building images"
        ):
            # Another run may have built some while we waited for the lock.
            wanted = await _to_build(docker_host, images, rebuild=rebuild)
            if wanted:
                await _build(docker_host, wanted, repo_root, build_root, log_path)
    else:
        log.info("reusing %s", ", ".join(images.values()))
    async with aiodocker.Docker(url=docker_host) as docker:
        for name, image in images.items():
            await docker.images.tag(image, service_repository(name), tag=LATEST_TAG)
    return images


async def ensure_all_images(state_dir: Path | None = None, *, rebuild: bool = False) -> list[str]:
    """`make images`: engine, base image, the analyzer, the four services, the backup job."""
    layout = StateLayout((state_dir or default_state_dir()).absolute())
    analyzer = await ensure_images(layout.root, rebuild=rebuild)
    services = await ensure_service_images(
        await ensure_docker_engine(),
        repo_root=find_repo_root(),
        log_path=layout.log_file(IMAGES_LOG),
        rebuild=rebuild,
        state_dir=layout.root,
    )
    return [analyzer, *services.values()]


async def _to_build(
    docker_host: str, images: Mapping[str, str], *, rebuild: bool
) -> dict[str, str]:
    if rebuild:
        return dict(images)
    return {
        name: image for name, image in images.items() if not await image_exists(docker_host, image)
    }


def _check_recipe(repo_root: Path) -> None:
    recipe = (DOCKERFILE, BACKUP_DOCKERFILE, CONTEXT_SCRIPT)
    missing = [str(p) for p in recipe if not (repo_root / p).is_file()]
    if missing:
        raise SetupError(f"cannot build the images: {', '.join(missing)} missing in {repo_root}")


async def _build(
    docker_host: str,
    images: Mapping[str, str],
    repo_root: Path,
    build_root: Path,
    log_path: Path,
) -> None:
    log.info("building %s (log: %s)", ", ".join(images.values()), log_path)
    workspace = Path(tempfile.mkdtemp(prefix="services-", dir=build_root))
    context, tarball = workspace / "context", workspace / "context.tar"
    try:
        await run_command(
            ["bash", str(repo_root / CONTEXT_SCRIPT), str(context)],
            log_path=log_path,
            timeout=CONTEXT_TIMEOUT_SECONDS,
            cwd=repo_root,
        )
        await asyncio.to_thread(write_context_tar, context, tarball)
        async with aiodocker.Docker(url=docker_host) as docker:
            for name, image in images.items():
                try:
                    async with asyncio.timeout(BUILD_TIMEOUT_SECONDS):
                        await send_build(
                            docker,
                            image,
                            tarball,
                            service_build_args(name),
                            log_path,
                            dockerfile=dockerfile_of(name),
                        )
                except TimeoutError:
                    raise DevstackError(
                        f"building {image} took over {BUILD_TIMEOUT_SECONDS:.0f}s; see {log_path}"
                    ) from None
                log.info("built %s", image)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
