"""Daemons we start: spawn them detached, prove a PID is ours, stop them with a grace period.

Linux only: ownership and liveness are read from /proc.
"""

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from packguard.devstack.errors import ComponentFailed

STOP_GRACE_SECONDS = 10.0
KILL_WAIT_SECONDS = 5.0


def spawn_daemon(
    argv: Sequence[str],
    *,
    cwd: Path,
    log_path: Path,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start `argv` in its own session with output appended to `log_path`; return its PID.

    posix_spawn rather than Popen/asyncio: the server must outlive this process and its
    event loop, and an abandoned Popen object warns (or kills it, for asyncio transports).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # posix_spawn has no cwd argument; env(1) changes directory and then execs in place.
    env_binary = shutil.which("env") or "/usr/bin/env"
    file_actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    return os.posix_spawn(
        env_binary,
        [env_binary, f"--chdir={cwd}", *argv],
        dict(os.environ if env is None else env),
        file_actions=file_actions,
        setsid=True,
        # Python ignores SIGPIPE/SIGXFSZ; an exec'd server must get the defaults back.
        setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
        setsigmask=(),
    )


def is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (our own dead children are reaped)."""
    reap(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    if state in {"Z", "X"}:
        reap(pid)  # it may have died since the first reap
        return False
    return True


def is_ours(pid: int, executable: Path, cwd: Path) -> bool:
    """True when `pid` runs `executable` in `cwd`.

    /proc/PID/exe and cwd survive PID reuse by strangers and servers that rewrite their
    command line (valkey does), unlike a cmdline match.
    """
    try:
        exe = Path(f"/proc/{pid}/exe").readlink()
        workdir = Path(f"/proc/{pid}/cwd").readlink()
    except OSError:
        return False
    # An upgraded wheel leaves running servers on a "(deleted)" binary: still ours.
    exe = Path(str(exe).removesuffix(" (deleted)"))
    return exe == executable.resolve() and workdir == cwd.resolve()


def reap(pid: int) -> None:
    """Collect `pid`'s exit status if it is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


async def terminate(
    pid: int, *, stop_signal: int = signal.SIGTERM, grace: float = STOP_GRACE_SECONDS
) -> None:
    """Send `stop_signal`, then SIGKILL its process group after `grace` seconds."""
    if not is_running(pid):
        return
    _send(pid, stop_signal)
    if await wait_exit(pid, grace):
        return
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return
    # The daemon leads its own session; never signal our own group by mistake.
    if group != os.getpgrp():
        _send_group(group, signal.SIGKILL)
    else:
        _send(pid, signal.SIGKILL)
    if not await wait_exit(pid, KILL_WAIT_SECONDS):
        raise ComponentFailed(f"process {pid} survived SIGKILL")


async def wait_exit(pid: int, timeout: float) -> bool:
    """Poll until `pid` is gone; False if it is still running at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.01
    while is_running(pid):
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.2)
    return True


def _send(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _send_group(group: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, sig)
