"""What the processes of a benchmark use: RSS idle and at peak, CPU seconds under load.

A service is its process plus its children (a Celery prefork worker is several). CPU
seconds per request or task are far less sensitive than rates to other load on a shared
machine, so the benchmarks report both.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import psutil

MIB = 1024 * 1024


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def rss_mib(pid: int) -> float:
    """RSS of ``pid`` and its descendants in MiB; 0 when it is gone."""
    total = 0
    for process in _tree(pid):
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return round(total / MIB, 1)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU time of ``pid`` and its live descendants."""
    user = system = 0.0
    for process in _tree(pid):
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            user += times.user
            system += times.system
    return user, system


def snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    return {name: rss_mib(pid) for name, pid in pids.items()}


@dataclass
class Usage:
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    system_seconds: dict[str, float] = field(default_factory=dict)
    """The kernel's share of ``cpu_seconds`` (syscalls: sockets, wake-ups)."""

    def cpu_ms_per(self, count: int) -> dict[str, float]:
        return {name: round(s * 1000 / count, 3) for name, s in self.cpu_seconds.items()}

    def system_share(self) -> dict[str, float]:
        return {
            name: round(self.system_seconds[name] / total, 2) if total else 0.0
            for name, total in self.cpu_seconds.items()
        }


@contextlib.asynccontextmanager
async def watched(pids: Mapping[str, int], *, interval: float = 0.25) -> AsyncIterator[Usage]:
    """Samples RSS every ``interval`` s while the block runs; CPU is the difference."""
    usage = Usage(peak_rss_mib=dict.fromkeys(pids, 0.0))
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}

    def sample() -> None:
        for name, value in snapshot(pids).items():
            usage.peak_rss_mib[name] = max(usage.peak_rss_mib[name], value)

    async def sampler_loop() -> None:
        while True:
            sample()
            await asyncio.sleep(interval)

    sampler = asyncio.create_task(sampler_loop())
    try:
        yield usage
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        sample()
        for name, pid in pids.items():
            user, system = cpu_seconds(pid)
            usage.cpu_seconds[name] = user + system - sum(cpu_before[name])
            usage.system_seconds[name] = system - cpu_before[name][1]
