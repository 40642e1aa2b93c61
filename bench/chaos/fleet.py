"""The run's service processes: kill them, restart them, and restart any that crash.

Every process is a ``tests.e2e.processes.ServiceProcess`` of one ``Pipeline``. A process
the fault injector took down on purpose is *held* until it is started again; any other
process that exits is a crash, counted and restarted at once, as an orchestrator would.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.chaos.timeline import Timeline
from tests.e2e.processes import Pipeline, ServiceProcess

START_ATTEMPT_SECONDS = 60.0
CRASH_RESTART_SECONDS = 1.0
SUPERVISE_INTERVAL_SECONDS = 0.5


@dataclass(slots=True)
class Fleet:
    pipeline: Pipeline
    runner_env: Mapping[str, dict[str, str]]
    """Environment overrides per runner kind (``noop``, ``sandbox``)."""
    timeline: Timeline
    runners: dict[str, str] = field(default_factory=dict)
    """Live runner name → its kind."""
    kills: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    _held: set[str] = field(default_factory=set)
    _started: Counter[str] = field(default_factory=Counter)

    async def add_runner(self, kind: str) -> ServiceProcess:
        self._started[kind] += 1
        # A restarted pod is a new consumer-group member: a new name each time.
        name = f"runner-{kind}-{self._started[kind]}"
        self._held.add(name)
        runner = await self.pipeline.add_runner(name, start=False, env=self.runner_env[kind])
        self.runners[name] = kind
        await self._bring_up(runner)
        return runner

    async def kill_random_runner(self, rng: random.Random) -> None:
        """SIGKILL one live runner and start a replacement of the same kind."""
        live = sorted(name for name in self.runners if name not in self._held)
        if not live:
            return
        name = rng.choice(live)
        kind = self.runners.pop(name)
        await self._kill(self.pipeline.get(name))
        self.kills[f"runner ({kind})"] += 1
        self.timeline.note(f"SIGKILL {name}")
        await self.add_runner(kind)

    async def kill_service(self, name: str, *, down_seconds: float) -> None:
        """SIGKILL ``name`` (gateway, scheduler, reporter), keep it down, start it again."""
        service = self.pipeline.get(name)
        self._held.add(name)
        await self._kill(service)
        self.kills[name] += 1
        self.timeline.note(f"SIGKILL {name}")
        await asyncio.sleep(down_seconds)
        await self._bring_up(service)
        self.timeline.note(f"{name} restarted")

    async def supervise(self) -> None:
        """Restart any process that exits without being killed on purpose, until cancelled."""
        restarts: set[asyncio.Task[None]] = set()
        try:
            while True:
                # No await in this loop: _held cannot change under it.
                for service in self._watched():
                    if service.process is not None and service.process.returncode is not None:
                        self.crashes[service.name] += 1
                        self.timeline.note(
                            f"{service.name} exited {service.process.returncode} on its own"
                        )
                        self._held.add(service.name)
                        restart = asyncio.create_task(self._restart_crashed(service))
                        restarts.add(restart)
                        restart.add_done_callback(restarts.discard)
                await asyncio.sleep(SUPERVISE_INTERVAL_SECONDS)
        finally:
            for restart in restarts:
                restart.cancel()

    async def _restart_crashed(self, service: ServiceProcess) -> None:
        await asyncio.sleep(CRASH_RESTART_SECONDS)
        try:
            await self._bring_up(service)
        except RuntimeError as exc:
            self.timeline.note(f"gave up restarting {service.name}: {exc}")

    def _watched(self) -> list[ServiceProcess]:
        names = {"gateway", "scheduler", "reporter", *self.runners} - self._held
        return [s for s in self.pipeline.services if s.name in names]

    async def _bring_up(self, service: ServiceProcess) -> None:
        """Start ``service`` until it answers its health check; each failed start counts
        as a crash (e.g. the gateway cannot start while PostgreSQL is down)."""
        self._held.add(service.name)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_ATTEMPT_SECONDS
        while True:
            await service.start()
            try:
                await service.wait_healthy(timeout=max(1.0, deadline - loop.time()))
                break
            except (RuntimeError, TimeoutError) as exc:
                self.crashes[service.name] += 1
                await self._kill(service)
                if loop.time() >= deadline:
                    raise RuntimeError(f"{service.name} does not come back: {exc}") from exc
                await asyncio.sleep(CRASH_RESTART_SECONDS)
        self._held.discard(service.name)

    @staticmethod
    async def _kill(service: ServiceProcess) -> None:
        service.kill()
        if service.process is not None:
            await service.process.wait()
