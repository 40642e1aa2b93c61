"""Open-loop pacing: start call ``i`` at ``i / rate`` seconds, whatever earlier calls do.

Closed-loop load (``http_load``) measures capacity; latency needs an offered rate the
system can sustain, or it measures the backlog instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any


async def paced(
    call: Callable[[int], Coroutine[Any, Any, None]], *, count: int, rate: float
) -> float:
    """Run ``call(0..count-1)`` at ``rate`` starts per second; the seconds it all took."""
    started = time.monotonic()
    running: list[asyncio.Task[None]] = []
    for index in range(count):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        running.append(asyncio.create_task(call(index)))
    await asyncio.gather(*running)
    return time.monotonic() - started


def paced_blocking(call: Callable[[int], None], *, count: int, rate: float) -> float:
    """``paced`` for a blocking client (Celery's producer), in the calling thread."""
    started = time.monotonic()
    for index in range(count):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        call(index)
    return time.monotonic() - started
