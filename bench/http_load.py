"""Closed-loop HTTP load on loopback: N workers, each sending its next request when the
previous one is answered, until ``count`` requests are sent or ``time_limit`` passes.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

# One request: method, path (joined to the base URL), body (already JSON-encoded) or None.
RequestSpec = tuple[str, str, bytes | None]


@dataclass
class LoadResult:
    name: str
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    """Decoded JSON answers, kept only when asked (to pick ids for the next phase)."""

    def summary(self, *, expected: set[int]) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        unexpected = sum(n for status, n in self.statuses.items() if status not in expected)
        return {
            "phase": self.name,
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "requests_per_second": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
            "unexpected_responses": unexpected,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return ordered[rank]


async def run_load(
    name: str,
    base_url: str,
    headers: dict[str, str],
    make_request: Callable[[int], RequestSpec],
    *,
    count: int,
    concurrency: int,
    time_limit: float,
    keep_bodies: bool = False,
) -> LoadResult:
    result = LoadResult(name)
    next_index = 0
    deadline = time.monotonic() + time_limit
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    base_headers = {**headers, "Content-Type": "application/json"}

    async with aiohttp.ClientSession(
        base_url, connector=connector, headers=base_headers, timeout=timeout
    ) as session:

        async def worker() -> None:
            nonlocal next_index
            while next_index < count and time.monotonic() < deadline:
                index = next_index
                next_index += 1
                method, path, body = make_request(index)
                started = time.perf_counter()
                async with session.request(method, path, data=body) as response:
                    payload = await response.read()
                result.latencies.append(time.perf_counter() - started)
                result.statuses[response.status] += 1
                if keep_bodies:
                    result.bodies.append(payload)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.monotonic() - started
    result.requests = sum(result.statuses.values())
    return result
