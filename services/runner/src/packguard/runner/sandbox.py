"""Running the analyzer image under the sandbox contract (DESIGN.md §3) via aiodocker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiodocker
import structlog

from packguard.common import sandbox as contract
from packguard.common.errors import SandboxUnavailable
from packguard.runner.settings import RunnerSettings

log = structlog.get_logger(__name__)

_OUTPUT_TAIL_BYTES = 4096
# What the engine keeps of a container's stdout/stderr on its host: the analyzer prints
# one line, but package code can write to PID 1's stdout through /proc/1/fd/1.
_LOG_MAX_BYTES = "1m"


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    memory_bytes: int
    nano_cpus: int
    pids_limit: int
    scratch_bytes: int
    nofile: tuple[int, int]
    nproc: tuple[int, int]

    @classmethod
    def from_settings(cls, settings: RunnerSettings) -> SandboxLimits:
        return cls(
            memory_bytes=settings.sandbox_memory_bytes,
            nano_cpus=settings.sandbox_nano_cpus,
            pids_limit=settings.sandbox_pids_limit,
            scratch_bytes=settings.sandbox_scratch_bytes,
            nofile=settings.sandbox_nofile,
            nproc=settings.sandbox_nproc,
        )


class SandboxOutcome(StrEnum):
    EXITED = "exited"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class SandboxResult:
    outcome: SandboxOutcome
    exit_code: int | None
    oom_killed: bool
    output_tail: str


def container_config(
    *,
    image: str,
    command: list[str],
    input_dir: Path,
    output_dir: Path,
    limits: SandboxLimits,
    labels: dict[str, str],
) -> dict[str, Any]:
    """The container spec; every field of the sandbox contract is here and nowhere else."""
    return {
        "Image": image,
        "Cmd": command,
        "User": contract.SANDBOX_USER,
        "NetworkDisabled": True,
        "WorkingDir": contract.SCRATCH_DIR,
        "Env": ["HOME=/sandbox/scratch", "PYTHONDONTWRITEBYTECODE=1"],
        "Labels": labels,
        "HostConfig": {
            "NetworkMode": "none",
            "ReadonlyRootfs": True,
            "CapDrop": ["ALL"],
            "SecurityOpt": ["no-new-privileges"],
            "PidsLimit": limits.pids_limit,
            "Memory": limits.memory_bytes,
            "MemorySwap": limits.memory_bytes,
            "NanoCpus": limits.nano_cpus,
            # exec: the package's own scripts and build tools run from scratch (Docker
            # mounts a tmpfs noexec unless told); nosuid/nodev and no-new-privileges stay.
            "Tmpfs": {
                contract.SCRATCH_DIR: f"rw,exec,nosuid,nodev,size={limits.scratch_bytes},mode=1777",
                "/tmp": "rw,nosuid,nodev,size=67108864,mode=1777",  # noqa: S108 (in the container)
            },
            "Binds": [
                f"{input_dir}:{contract.INPUT_DIR}:ro",
                f"{output_dir}:{contract.OUTPUT_DIR}:rw",
            ],
            # Network intent with zero egress: only lo exists; the analyzer's own resolver
            # and listeners on 127.0.0.1 answer, so it may bind ports below 1024 (a
            # namespaced sysctl, this container's netns only) and resolv.conf points there.
            "Dns": [contract.SINKHOLE_RESOLVER],
            "DnsOptions": ["timeout:1", "attempts:2"],
            "Sysctls": {"net.ipv4.ip_unprivileged_port_start": "0"},
            "Ulimits": [
                {"Name": "nofile", "Soft": limits.nofile[0], "Hard": limits.nofile[1]},
                {"Name": "nproc", "Soft": limits.nproc[0], "Hard": limits.nproc[1]},
                # No file in scratch can outgrow scratch anyway; this one caps the single
                # file package code can reach on the runner's disk, the pre-created report.
                {"Name": "fsize", "Soft": limits.scratch_bytes, "Hard": limits.scratch_bytes},
            ],
            "LogConfig": {
                "Type": "json-file",
                "Config": {"max-size": _LOG_MAX_BYTES, "max-file": "1"},
            },
            "AutoRemove": False,
        },
    }


CancelCheck = Callable[[], Awaitable[bool]]


class DockerSandbox:
    """Runs one container per analysis and always removes it."""

    def __init__(self, docker: aiodocker.Docker, *, cancel_poll_seconds: float = 1.0) -> None:
        self._docker = docker
        self._cancel_poll_seconds = cancel_poll_seconds

    async def run(
        self,
        name: str,
        config: dict[str, Any],
        *,
        timeout_seconds: float,
        is_cancelled: CancelCheck,
    ) -> SandboxResult:
        with _translated_engine_errors():
            await self._remove(name)  # a leftover from a runner that died mid-task
            container = await self._docker.containers.create(config, name=name)
        try:
            with _translated_engine_errors():
                await container.start()
            waiter = asyncio.ensure_future(container.wait())
            outcome = await self._wait(waiter, timeout_seconds, is_cancelled)
            if outcome is not SandboxOutcome.EXITED:
                with contextlib.suppress(aiodocker.DockerError):
                    await container.kill()
                waiter.cancel()
            with _translated_engine_errors():
                state = (await container.show())["State"]
                tail = await self._output_tail(container)
            return SandboxResult(
                outcome=outcome,
                exit_code=state.get("ExitCode") if outcome is SandboxOutcome.EXITED else None,
                oom_killed=bool(state.get("OOMKilled")),
                output_tail=tail,
            )
        finally:
            with contextlib.suppress(aiodocker.DockerError, OSError):
                async with asyncio.timeout(30):
                    await container.delete(force=True)

    async def _wait(
        self, waiter: asyncio.Future[Any], timeout_seconds: float, is_cancelled: CancelCheck
    ) -> SandboxOutcome:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return SandboxOutcome.TIMED_OUT
            done, _ = await asyncio.wait(
                {waiter}, timeout=min(remaining, self._cancel_poll_seconds)
            )
            if done:
                waiter.result()
                return SandboxOutcome.EXITED
            if await is_cancelled():
                return SandboxOutcome.CANCELLED

    async def _output_tail(self, container: Any) -> str:
        lines = await container.log(stdout=True, stderr=True, tail=50)
        return "".join(lines)[-_OUTPUT_TAIL_BYTES:]

    async def _remove(self, name: str) -> None:
        with contextlib.suppress(aiodocker.DockerError):
            old = await self._docker.containers.get(name)
            await old.delete(force=True)


@contextlib.contextmanager
def _translated_engine_errors() -> Any:
    try:
        yield
    except aiodocker.DockerError as exc:
        raise SandboxUnavailable(f"container engine error: {exc.status} {exc.message}") from exc
    except (OSError, TimeoutError) as exc:
        raise SandboxUnavailable(f"container engine unreachable: {exc}") from exc
