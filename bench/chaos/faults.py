"""The fault schedule of one run, carried out against the live fleet and servers.

Process faults are SIGKILLs (no cleanup, no drain); server faults stop the real server
the way an operator or a crash would and start it again on the same port and data dir
(``packguard.devstack.restart_server`` / ``stop_server`` / ``start_server``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from bench.chaos.clients import ClientProgress
from bench.chaos.fleet import Fleet
from bench.chaos.plan import ChaosPlan
from bench.chaos.timeline import Timeline
from packguard.devstack import restart_server, start_server, stop_server

BURST_WAIT_SECONDS = 30.0
"""The gateway dies this long after the burst began even if few answers came back."""


class FaultInjector:
    def __init__(
        self,
        plan: ChaosPlan,
        *,
        fleet: Fleet,
        stack_dir: Path,
        progress: ClientProgress,
        timeline: Timeline,
        rng: random.Random,
    ) -> None:
        self._plan = plan
        self._fleet = fleet
        self._stack_dir = stack_dir
        self._progress = progress
        self._timeline = timeline
        self._rng = rng

    async def run(self) -> None:
        """Every fault of the schedule; returns when the last one is over."""
        faults = self._plan.faults
        down = faults.service_down_seconds
        async with asyncio.TaskGroup() as group:
            group.create_task(self._kill_runners())
            for offset, fault in (
                (faults.scheduler_kill_at, partial(self._kill, "scheduler", down)),
                (faults.redis_restart_at, partial(self._restart, "redis")),
                (faults.reporter_kill_at, partial(self._kill, "reporter", down)),
                (faults.postgres_restart_at, partial(self._restart, "postgres")),
                (faults.s3_outage_at, self._s3_outage),
                (self._plan.burst_at, self._kill_gateway_under_burst),
            ):
                group.create_task(self._at(offset, fault))

    async def _kill_runners(self) -> None:
        faults = self._plan.faults
        await self._timeline.sleep_until(faults.runner_kills_from)
        while self._timeline.now() < faults.runner_kills_until:
            await self._fleet.kill_random_runner(self._rng)
            await asyncio.sleep(self._rng.uniform(*faults.runner_kill_interval))

    async def _at(self, offset: float, fault: Callable[[], Awaitable[None]]) -> None:
        await self._timeline.sleep_until(offset)
        await fault()

    async def _kill(self, name: str, down_seconds: float) -> None:
        await self._fleet.kill_service(name, down_seconds=down_seconds)

    async def _restart(self, server: str) -> None:
        self._timeline.note(f"{server} restarting")
        await restart_server(server, self._stack_dir)
        self._timeline.note(f"{server} back")

    async def _s3_outage(self) -> None:
        await stop_server("s3", self._stack_dir)
        self._timeline.note("s3 stopped (unreachable)")
        await asyncio.sleep(self._plan.faults.s3_outage_seconds)
        await start_server("s3", self._stack_dir)
        self._timeline.note("s3 back")

    async def _kill_gateway_under_burst(self) -> None:
        self._progress.burst_milestone = self._plan.faults.gateway_kill_after_burst_answers
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(BURST_WAIT_SECONDS):
                await self._progress.milestone_reached.wait()
        self._timeline.note(
            f"gateway under load: {self._progress.burst_answered} burst answers, "
            f"{self._progress.in_flight} requests in flight"
        )
        await self._fleet.kill_service(
            "gateway", down_seconds=self._plan.faults.service_down_seconds
        )
