"""When each fault happened, in seconds from the start of the load."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass(slots=True)
class Timeline:
    start: float
    """Loop time (``loop.time()``) at which the load starts."""
    events: list[tuple[float, str]] = field(default_factory=list)

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.start

    def note(self, what: str) -> None:
        """Record ``what`` and print it at once: a run is minutes long."""
        at = round(self.now(), 1)
        self.events.append((at, what))
        print(f"  {at:6.1f} s  {what}", flush=True)

    async def sleep_until(self, offset: float) -> None:
        await asyncio.sleep(max(0.0, offset - self.now()))
