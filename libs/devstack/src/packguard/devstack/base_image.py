"""The sandbox base image, built locally because no container registry is reachable.

`debootstrap` a minimal bookworm (Python, strace, Node.js, CA certificates) from the mirror
apt already uses, drop apt's caches and lists, and `docker import` the tree. The image is
labelled with its package list, so a base built from an older list is rebuilt once.
"""

import asyncio
import logging
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiodocker

from packguard.devstack.apt_sources import debian_mirror
from packguard.devstack.binaries import system_binary
from packguard.devstack.commands import run_command
from packguard.devstack.engine_api import import_rootfs
from packguard.devstack.errors import SetupError
from packguard.devstack.locks import hold_lock
from packguard.devstack.system_packages import AptInstaller

log = logging.getLogger(__name__)

REPOSITORY = "localhost/packguard-base"
SUITE = "bookworm"
BASE_IMAGE = f"{REPOSITORY}:{SUITE}"
# nodejs: the analyzer runs npm lifecycle scripts and require()s packages with it.
PACKAGES = ("python3", "python3-venv", "python3-pip", "strace", "nodejs", "ca-certificates")
PACKAGES_LABEL = "dev.packguard.base-packages"
# On disk, not a tmpfs: the tree is a few hundred MB and needs device nodes.
DEFAULT_BUILD_DIR = Path("/var/tmp/packguard-base-build")
BUILD_TIMEOUT_SECONDS = 1800.0
IMAGE_CHANGES = (
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
    f"LABEL {PACKAGES_LABEL}={','.join(PACKAGES)}",
)
# What apt leaves behind that only bloats the image.
APT_LEFTOVERS = ("var/cache/apt/archives", "var/cache/apt", "var/lib/apt/lists")


def debootstrap_command(debootstrap: Path, rootfs: Path, mirror: str) -> list[str]:
    return [
        str(debootstrap),
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(rootfs),
        mirror,
    ]


async def image_exists(docker_host: str, image: str = BASE_IMAGE) -> bool:
    return await _image_labels(docker_host, image) is not None


async def is_base_current(docker_host: str) -> bool:
    """BASE_IMAGE exists and was built from today's PACKAGES."""
    labels = await _image_labels(docker_host, BASE_IMAGE)
    return labels is not None and labels.get(PACKAGES_LABEL) == ",".join(PACKAGES)


async def _image_labels(docker_host: str, image: str) -> dict[str, str] | None:
    async with aiodocker.Docker(url=docker_host) as docker:
        try:
            found = await docker.images.inspect(image)
        except aiodocker.DockerError as error:
            if error.status == 404:
                return None
            raise
    return dict((found.get("Config") or {}).get("Labels") or {})


async def ensure_base_image(
    docker_host: str,
    *,
    log_path: Path,
    apt: AptInstaller | None = None,
    build_dir: Path = DEFAULT_BUILD_DIR,
    timeout: float = BUILD_TIMEOUT_SECONDS,
) -> str:
    """Return BASE_IMAGE, building and importing it first if it is missing or outdated."""
    if await is_base_current(docker_host):
        return BASE_IMAGE
    if os.geteuid() != 0:
        raise SetupError(f"{BASE_IMAGE} is missing and building it (debootstrap) needs root")
    build_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    async with hold_lock(build_dir / "lock", timeout=timeout, what=f"building {BASE_IMAGE}"):
        if await is_base_current(docker_host):  # another run built it while we waited
            return BASE_IMAGE
        await (apt or AptInstaller(log_path)).ensure_commands({"debootstrap": "debootstrap"})
        rootfs = build_dir / f"rootfs-{os.getpid()}"
        log.info("building %s (debootstrap, takes a minute or two)", BASE_IMAGE)
        try:
            async with asyncio.timeout(timeout):
                await _debootstrap(rootfs, log_path)
                strip_apt_leftovers(rootfs)
                await _import(docker_host, rootfs, log_path)
        finally:
            _remove_tree(rootfs)
    log.info("built %s", BASE_IMAGE)
    return BASE_IMAGE


def strip_apt_leftovers(rootfs: Path) -> None:
    for relative in APT_LEFTOVERS:
        directory = rootfs / relative
        for entry in directory.iterdir() if directory.is_dir() else ():
            if entry.is_file() or entry.is_symlink():
                entry.unlink()


async def _debootstrap(rootfs: Path, log_path: Path) -> None:
    debootstrap = system_binary("debootstrap")
    if debootstrap is None:
        raise SetupError("debootstrap is missing: apt-get install -y debootstrap")
    _remove_tree(rootfs)
    await run_command(
        debootstrap_command(debootstrap, rootfs, debian_mirror(SUITE)),
        log_path=log_path,
        timeout=BUILD_TIMEOUT_SECONDS,
    )


async def _import(docker_host: str, rootfs: Path, log_path: Path) -> None:
    with log_path.open("ab") as log_file:
        tar = await asyncio.create_subprocess_exec(
            "tar",
            "-C",
            str(rootfs),
            "--numeric-owner",
            "-c",
            ".",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
        try:
            await import_rootfs(
                docker_host, _chunks(tar), repository=REPOSITORY, tag=SUITE, changes=IMAGE_CHANGES
            )
        finally:
            if tar.returncode is None:
                tar.kill()
            code = await tar.wait()
    if code != 0:
        raise SetupError(f"tar of {rootfs} failed with exit code {code}; see {log_path}")


async def _chunks(process: asyncio.subprocess.Process) -> AsyncIterator[bytes]:
    assert process.stdout is not None  # noqa: S101 - created with stdout=PIPE
    while chunk := await process.stdout.read(1 << 20):
        yield chunk


def _remove_tree(rootfs: Path) -> None:
    """Delete a build tree, first unmounting anything debootstrap left mounted in it."""
    if not rootfs.exists():
        return
    for mount_point in sorted(_mounts_under(rootfs), reverse=True):
        subprocess.run(["umount", "-l", mount_point], check=False)
    shutil.rmtree(rootfs, ignore_errors=True)


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve())
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    # /proc/self/mounts escapes spaces and friends as octal (\040).
    points = [line.split()[1].encode().decode("unicode_escape") for line in lines if line.split()]
    return [p for p in points if p == prefix or p.startswith(prefix + "/")]
