"""Advisory file locks, so two `up` runs (or two test sessions) never race on shared state."""

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from packguard.devstack.errors import DevstackError


@asynccontextmanager
async def hold_lock(path: Path, *, timeout: float, what: str) -> AsyncIterator[None]:
    """Hold an exclusive flock on `path`, polling until `timeout` without blocking the loop."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if loop.time() >= deadline:
                    raise DevstackError(
                        f"{what} is locked by another process ({path}) for over {timeout:.0f}s"
                    ) from None
                await asyncio.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
