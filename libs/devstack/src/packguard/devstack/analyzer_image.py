"""The analyzer image, built from this checkout into the stack's engine.

The tag is a digest of what goes into the image (analyzer and common sources, their
pyprojects, the image recipe, the pinned versions), so an unchanged checkout reuses
the image instantly and any change builds a new one. The context is assembled by the
analyzer's own `libs/analyzer/image/build-context.sh` (wheels only, so the build needs
no network) and sent to the Engine API as a tarball; `:latest` follows the last ensure.
"""

import asyncio
import logging
import re
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import aiodocker

from packguard.devstack.base_image import BASE_IMAGE
from packguard.devstack.commands import run_command
from packguard.devstack.errors import DevstackError, SetupError
from packguard.devstack.layout import default_state_dir
from packguard.devstack.locks import hold_lock
from packguard.devstack.readiness import log_tail
from packguard.devstack.source_digest import tree_digest

log = logging.getLogger(__name__)

REPOSITORY = "localhost/packguard-analyzer"
LATEST_TAG = "latest"
IMAGE_DIR = Path("libs/analyzer/image")
DOCKERFILE = IMAGE_DIR / "Dockerfile"
CONTEXT_SCRIPT = IMAGE_DIR / "build-context.sh"
# Everything that ends up in the image; changing any of it changes the tag.
TAG_SOURCES = (
    "libs/analyzer/src",
    "libs/analyzer/pyproject.toml",
    str(IMAGE_DIR),
    "libs/common/src",
    "libs/common/pyproject.toml",
    "constraints.txt",  # the runtime dependencies' pins
)
TAG_LENGTH = 12
VERSION_SOURCE = Path("libs/analyzer/src/packguard/analyzer/analyze.py")
VERSION_PATTERN = re.compile(r'^ANALYZER_VERSION = "(?P<version>[^"]+)"', re.MULTILINE)
CONTEXT_TIMEOUT_SECONDS = 600.0  # downloads the runtime wheels through pip
BUILD_TIMEOUT_SECONDS = 1800.0
LOCK_TIMEOUT_SECONDS = CONTEXT_TIMEOUT_SECONDS + BUILD_TIMEOUT_SECONDS
TAG_LABEL = "dev.packguard.content-tag"


def analyzer_tag(repo_root: Path) -> str:
    """The content-derived tag of the analyzer image for the checkout at `repo_root`."""
    return tree_digest(repo_root, TAG_SOURCES)[:TAG_LENGTH]


def analyzer_image_name(tag: str) -> str:
    return f"{REPOSITORY}:{tag}"


def analyzer_version(repo_root: Path) -> str | None:
    """ANALYZER_VERSION from the analyzer's source (its single source of truth), if found."""
    try:
        match = VERSION_PATTERN.search((repo_root / VERSION_SOURCE).read_text())
    except OSError:
        return None
    return match["version"] if match else None


async def ensure_analyzer_image(  # noqa: PLR0913 - keyword-only, all but two optional
    docker_host: str,
    *,
    repo_root: Path,
    tag: str | None = None,
    log_path: Path,
    rebuild: bool = False,
    state_dir: Path | None = None,
) -> str:
    """Return `localhost/packguard-analyzer:<tag>`, building it first if missing (or `rebuild`).

    `tag` defaults to the content tag of `repo_root`; the image is built FROM BASE_IMAGE
    (which must exist: see ensure_base_image) and also tagged `:latest`. The context is
    assembled in a temporary dir under `<state_dir>/build`; output goes to `log_path`.
    """
    tag = tag or analyzer_tag(repo_root)
    image = analyzer_image_name(tag)
    build_root = (state_dir or default_state_dir()).absolute() / "build"
    async with aiodocker.Docker(url=docker_host) as docker:
        if rebuild or not await _image_exists(docker, image):
            _check_recipe(repo_root)
            build_root.mkdir(parents=True, exist_ok=True)
            async with hold_lock(
                build_root / "analyzer.lock", timeout=LOCK_TIMEOUT_SECONDS, what=f"building {image}"
            ):
                # Another run may have built it while we waited for the lock.
                if rebuild or not await _image_exists(docker, image):
                    await _build(docker, image, repo_root, build_root, log_path)
        else:
            log.info("reusing %s", image)
        await docker.images.tag(image, REPOSITORY, tag=LATEST_TAG)
    return image


def build_args(repo_root: Path) -> dict[str, str]:
    """The Dockerfile's ARGs: our local base image, and the version for the image label."""
    args = {"BASE_IMAGE": BASE_IMAGE}
    version = analyzer_version(repo_root)
    if version:
        args["ANALYZER_VERSION"] = version
    return args


def _check_recipe(repo_root: Path) -> None:
    missing = [str(p) for p in (DOCKERFILE, CONTEXT_SCRIPT) if not (repo_root / p).is_file()]
    if missing:
        raise SetupError(
            f"cannot build {REPOSITORY}: {', '.join(missing)} missing in {repo_root} "
            "(the analyzer's image recipe)"
        )


async def _image_exists(docker: aiodocker.Docker, image: str) -> bool:
    try:
        await docker.images.inspect(image)
    except aiodocker.DockerError as error:
        if error.status == 404:
            return False
        raise
    return True


async def _build(
    docker: aiodocker.Docker, image: str, repo_root: Path, build_root: Path, log_path: Path
) -> None:
    log.info("building %s (log: %s)", image, log_path)
    workspace = Path(tempfile.mkdtemp(prefix="analyzer-", dir=build_root))
    context, tarball = workspace / "context", workspace / "context.tar"
    try:
        await run_command(
            ["bash", str(repo_root / CONTEXT_SCRIPT), str(context)],
            log_path=log_path,
            timeout=CONTEXT_TIMEOUT_SECONDS,
            cwd=repo_root,
        )
        await asyncio.to_thread(write_context_tar, context, tarball)
        async with asyncio.timeout(BUILD_TIMEOUT_SECONDS):
            await send_build(docker, image, tarball, build_args(repo_root), log_path)
    except TimeoutError:
        raise DevstackError(
            f"building {image} took over {BUILD_TIMEOUT_SECONDS:.0f}s; see {log_path}"
        ) from None
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    log.info("built %s", image)


async def send_build(  # noqa: PLR0913 - the build's inputs, one each
    docker: aiodocker.Docker,
    image: str,
    tarball: Path,
    args: dict[str, str],
    log_path: Path,
    *,
    dockerfile: str = "Dockerfile",
) -> None:
    """Build `image` from a context tarball through the Engine API, output to `log_path`."""
    with tarball.open("rb") as context, log_path.open("a") as log_file:
        log_file.write(f"$ docker build -f {dockerfile} -t {image} (build args {args})\n")
        try:
            stream = docker.images.build(
                fileobj=context,
                encoding="identity",
                path_dockerfile=dockerfile,
                tag=image,
                buildargs=args,
                labels={TAG_LABEL: image.rpartition(":")[2]},
                rm=True,
                forcerm=True,
                stream=True,
            )
            async for message in stream:
                log_file.write(_build_output(message))
                log_file.flush()
        except aiodocker.DockerError as error:
            log_file.write(f"error: {error.message}\n")
            log_file.flush()
            raise DevstackError(
                f"building {image} failed: {error.message}; {log_path} ends with:\n"
                f"{log_tail(log_path)}"
            ) from None


def _build_output(message: dict[str, Any]) -> str:
    """The human text of one build stream message (steps, RUN output, status)."""
    if "stream" in message:
        return str(message["stream"])
    if "status" in message:
        return f"{message['status']} {message.get('progress', '')}".rstrip() + "\n"
    if "aux" in message:
        return f"image id {message['aux'].get('ID', '?')}\n"
    return ""


def write_context_tar(context: Path, tarball: Path) -> None:
    """Tar `context`'s contents with owner and timestamps normalised (stable layer cache)."""

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = 0
        return info

    with tarfile.open(tarball, "w") as archive:
        for entry in sorted(context.iterdir()):
            archive.add(entry, arcname=entry.name, filter=normalise)
