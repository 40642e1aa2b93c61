"""DockerSandbox against the real engine: timeouts and cancels kill and remove."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiodocker
import pytest
import pytest_asyncio

from packguard.runner.sandbox import DockerSandbox, SandboxLimits, SandboxOutcome, container_config

pytestmark = pytest.mark.integration

LIMITS = SandboxLimits(
    memory_bytes=256 * 2**20,
    nano_cpus=500_000_000,
    pids_limit=64,
    scratch_bytes=16 * 2**20,
    nofile=(256, 1024),
    nproc=(64, 128),
)


@pytest_asyncio.fixture(loop_scope="session")
async def docker(docker_host: str) -> AsyncIterator[aiodocker.Docker]:
    async with aiodocker.Docker(url=docker_host) as client:
        yield client


def _config(image: str, tmp_path: Path, *argv: str) -> dict[str, Any]:
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "out").mkdir(exist_ok=True)
    config = container_config(
        image=image,
        command=list(argv[1:]),
        input_dir=tmp_path / "in",
        output_dir=tmp_path / "out",
        limits=LIMITS,
        labels={"packguard.test": "1"},
    )
    config["Entrypoint"] = [argv[0]]
    return config


async def _never() -> bool:
    return False


async def _exists(docker: aiodocker.Docker, name: str) -> bool:
    try:
        await docker.containers.get(name)
    except aiodocker.DockerError:
        return False
    return True


async def test_container_past_its_timeout_is_killed_and_removed(
    docker: aiodocker.Docker, analyzer_image: str, tmp_path: Path
) -> None:
    sandbox = DockerSandbox(docker, cancel_poll_seconds=0.1)
    config = _config(analyzer_image, tmp_path, "sleep", "60")
    result = await sandbox.run(
        "packguard-test-timeout", config, timeout_seconds=1, is_cancelled=_never
    )
    assert result.outcome is SandboxOutcome.TIMED_OUT
    assert not await _exists(docker, "packguard-test-timeout")


async def test_cancel_request_kills_the_running_container(
    docker: aiodocker.Docker, analyzer_image: str, tmp_path: Path
) -> None:
    polls = 0

    async def cancelled_after_a_few_polls() -> bool:
        nonlocal polls
        polls += 1
        return polls >= 3

    sandbox = DockerSandbox(docker, cancel_poll_seconds=0.1)
    config = _config(analyzer_image, tmp_path, "sleep", "60")
    result = await sandbox.run(
        "packguard-test-cancel",
        config,
        timeout_seconds=60,
        is_cancelled=cancelled_after_a_few_polls,
    )
    assert result.outcome is SandboxOutcome.CANCELLED
    assert not await _exists(docker, "packguard-test-cancel")


async def test_container_has_no_network_and_a_read_only_root(
    docker: aiodocker.Docker, analyzer_image: str, tmp_path: Path
) -> None:
    script = (
        "import socket, pathlib\n"
        "ifaces = [n for _, n in socket.if_nameindex()]\n"
        "try:\n    pathlib.Path('/etc/x').write_text('x'); rootfs = 'writable'\n"
        "except OSError:\n    rootfs = 'read-only'\n"
        "import os; print(ifaces, rootfs, os.getuid())\n"
    )
    sandbox = DockerSandbox(docker)
    config = _config(analyzer_image, tmp_path, "python3", "-c", script)
    result = await sandbox.run(
        "packguard-test-net", config, timeout_seconds=30, is_cancelled=_never
    )
    assert result.exit_code == 0
    assert "['lo'] read-only 65534" in result.output_tail
