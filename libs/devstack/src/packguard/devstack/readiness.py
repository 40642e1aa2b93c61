"""Waiting for a server to answer: poll against a deadline, fail fast if it exits."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from packguard.devstack.errors import ComponentFailed

FIRST_POLL_DELAY = 0.02
MAX_POLL_DELAY = 0.5


async def wait_until_ready(
    probe: Callable[[], Awaitable[bool]],
    *,
    what: str,
    timeout: float,
    is_alive: Callable[[], bool] | None = None,
    log_path: Path | None = None,
) -> None:
    """Return once `probe()` is true; raise ComponentFailed on exit or at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = FIRST_POLL_DELAY
    while True:
        if await probe():
            return
        if is_alive is not None and not is_alive():
            raise ComponentFailed(f"{what} exited before answering{_log_excerpt(log_path)}")
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise ComponentFailed(
                f"{what} did not answer within {timeout:.0f}s{_log_excerpt(log_path)}"
            )
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL_DELAY)


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - 8192))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _log_excerpt(log_path: Path | None) -> str:
    if log_path is None:
        return ""
    tail = log_tail(log_path)
    return f"; see {log_path}" + (f", which ends with:\n{tail}" if tail else "")
