"""A Docker Engine for the sandbox: an existing one if it answers, else a private dockerd.

The private dockerd is shared by every stack and test run on the machine: its data-root
(built images) lives in /var/lib/packguard-docker and its socket, exec-root and pidfile in
/run/packguard-docker, so a test run reuses an engine a dev stack started and vice versa.
It runs without bridge, iptables or masquerading: it touches no host networking.
"""

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packguard.devstack.binaries import system_binary
from packguard.devstack.engine_api import ping_engine
from packguard.devstack.errors import EngineUnavailable
from packguard.devstack.locks import hold_lock
from packguard.devstack.processes import is_ours, is_running, spawn_daemon, terminate
from packguard.devstack.readiness import wait_until_ready
from packguard.devstack.state_file import read_pid_file
from packguard.devstack.system_packages import AptInstaller

log = logging.getLogger(__name__)

RUNTIME_DIR_ENV = "PACKGUARD_DOCKER_RUNTIME_DIR"
DATA_ROOT_ENV = "PACKGUARD_DOCKER_DATA_ROOT"
DEFAULT_RUNTIME_DIR = Path("/run/packguard-docker")
DEFAULT_DATA_ROOT = Path("/var/lib/packguard-docker")
SYSTEM_SOCKET = Path("/var/run/docker.sock")
START_TIMEOUT_SECONDS = 60.0
# dockerd stops running containers first, each with its own stop timeout.
STOP_GRACE_SECONDS = 30.0
# Containers may get at most these on some hosts (see DESIGN §3); soft limits stay low.
ULIMITS = {"nofile": (1024, 20000), "nproc": (1024, 32768)}


@dataclass(frozen=True)
class EnginePaths:
    """Where the shared private dockerd keeps its runtime files and its data."""

    runtime_dir: Path = DEFAULT_RUNTIME_DIR
    data_root: Path = DEFAULT_DATA_ROOT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "EnginePaths":
        return cls(
            runtime_dir=Path(environ.get(RUNTIME_DIR_ENV) or DEFAULT_RUNTIME_DIR),
            data_root=Path(environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT),
        )

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def exec_root(self) -> Path:
        return self.runtime_dir / "exec"

    @property
    def pid_file(self) -> Path:
        return self.runtime_dir / "dockerd.pid"

    @property
    def config_file(self) -> Path:
        return self.runtime_dir / "daemon.json"

    @property
    def log_file(self) -> Path:
        return self.runtime_dir / "dockerd.log"

    @property
    def lock_file(self) -> Path:
        return self.runtime_dir / "lock"


def daemon_config(paths: EnginePaths) -> dict[str, Any]:
    """The dockerd --config-file document: private dirs, no host networking changes."""
    return {
        "hosts": [paths.host],
        "data-root": str(paths.data_root),
        "exec-root": str(paths.exec_root),
        "pidfile": str(paths.pid_file),
        "storage-driver": "overlay2",
        "iptables": False,
        "ip-forward": False,
        "ip-masq": False,
        "bridge": "none",
        "default-ulimits": {
            name: {"Name": name, "Soft": soft, "Hard": hard}
            for name, (soft, hard) in ULIMITS.items()
        },
    }


async def ensure_docker_engine(
    paths: EnginePaths | None = None,
    *,
    apt: AptInstaller | None = None,
    environ: Mapping[str, str] = os.environ,
    timeout: float = START_TIMEOUT_SECONDS,
) -> str:
    """Return a DOCKER_HOST whose engine answers `/_ping`, starting a private one if needed.

    Order: `$DOCKER_HOST`, then /var/run/docker.sock, then the shared private dockerd
    (started here when we are root on Debian, installing docker.io if dockerd is missing).
    """
    paths = paths or EnginePaths.from_env(environ)
    configured = environ.get("DOCKER_HOST")
    if configured and configured != paths.host:
        if await ping_engine(configured):
            return configured
        raise EngineUnavailable(
            f"DOCKER_HOST={configured} does not answer /_ping: "
            "start that engine or unset DOCKER_HOST"
        )
    system_host = f"unix://{SYSTEM_SOCKET}"
    if not configured and SYSTEM_SOCKET.exists() and await ping_engine(system_host):
        return system_host
    return await _ensure_private_engine(
        paths, apt or AptInstaller(paths.runtime_dir / "apt.log"), timeout
    )


def private_engine_pid(paths: EnginePaths) -> int | None:
    """PID of the shared private dockerd when it runs, else None."""
    pid = read_pid_file(paths.pid_file)
    dockerd = system_binary("dockerd")
    if pid is None or dockerd is None:
        return None
    return pid if is_running(pid) and is_ours(pid, dockerd, paths.runtime_dir) else None


async def stop_private_engine(paths: EnginePaths | None = None) -> None:
    paths = paths or EnginePaths.from_env()
    if not paths.runtime_dir.is_dir():
        return
    async with hold_lock(paths.lock_file, timeout=STOP_GRACE_SECONDS * 2, what="private dockerd"):
        pid = private_engine_pid(paths)
        if pid is not None:
            log.info("stopping private dockerd (pid %d)", pid)
            await terminate(pid, grace=STOP_GRACE_SECONDS)


async def _ensure_private_engine(paths: EnginePaths, apt: AptInstaller, timeout: float) -> str:
    if os.geteuid() != 0 or not Path("/etc/debian_version").exists():
        raise EngineUnavailable(
            "no Docker Engine answers (DOCKER_HOST is unset and /var/run/docker.sock is "
            "silent), and starting a private dockerd needs root on Debian. Install and start "
            "Docker Engine (Debian/Ubuntu: apt-get install docker.io) or set DOCKER_HOST."
        )
    paths.runtime_dir.mkdir(mode=0o711, parents=True, exist_ok=True)
    async with hold_lock(paths.lock_file, timeout=timeout * 10, what="private dockerd"):
        pid = private_engine_pid(paths)
        if pid is not None:
            if await ping_engine(paths.host):
                log.info("reusing private dockerd (pid %d) at %s", pid, paths.host)
                return paths.host
            log.warning("private dockerd (pid %d) does not answer; restarting it", pid)
            await terminate(pid, grace=STOP_GRACE_SECONDS)
        await apt.ensure_commands({"dockerd": "docker.io"})
        dockerd = system_binary("dockerd")
        if dockerd is None:
            raise EngineUnavailable("dockerd is missing even after installing docker.io")
        _remove_stale_pid_files(paths)
        paths.data_root.mkdir(mode=0o710, parents=True, exist_ok=True)
        paths.config_file.write_text(json.dumps(daemon_config(paths), indent=2) + "\n")
        pid = spawn_daemon(
            [str(dockerd), "--config-file", str(paths.config_file)],
            cwd=paths.runtime_dir,
            log_path=paths.log_file,
        )
        log.info("starting private dockerd (pid %d) at %s", pid, paths.host)
        await wait_until_ready(
            lambda: ping_engine(paths.host),
            what="private dockerd",
            timeout=timeout,
            is_alive=lambda: is_running(pid),
            log_path=paths.log_file,
        )
        return paths.host


def _remove_stale_pid_files(paths: EnginePaths) -> None:
    """Drop dockerd's and its containerd's pidfiles when their processes are gone.

    dockerd trusts a pidfile whose PID merely exists (a zombie, or reused), then
    waits forever for that "running" containerd after a SIGKILL.
    """
    paths.pid_file.unlink(missing_ok=True)  # we only get here when dockerd is not ours/alive
    containerd_pid_file = paths.exec_root / "containerd" / "containerd.pid"
    containerd_pid = read_pid_file(containerd_pid_file)
    if containerd_pid is None or not is_running(containerd_pid):
        containerd_pid_file.unlink(missing_ok=True)
