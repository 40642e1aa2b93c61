"""Start whatever the dependencies' state: each one is connected in the background.

A service opens its clients without touching the network, serves ``/health/`` at once,
hands its connect steps (ping Redis, apply the migrations, ensure the bucket) to a
``Connector`` and starts its work once every step has succeeded; meanwhile ``/ready/``
says which are missing. A step that raises ``DependencyUnavailable`` or does not finish
in time is an outage: it is retried with jittered exponential backoff for as long as the
outage lasts, with one warning per outage rather than one per attempt. Anything else is
a bug or a misconfiguration and ends the service.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import asyncpg
import redis.asyncio as redis
import structlog
from redis.backoff import AbstractBackoff, EqualJitterBackoff

from packguard.common.db import apply_migrations
from packguard.common.errors import DependencyUnavailable
from packguard.common.health import ReadyCheck
from packguard.common.redis_client import ping

log = structlog.get_logger(__name__)

ATTEMPT_TIMEOUT_SECONDS = 30.0
"""A connect attempt still going after this (a host that drops packets) has failed."""
# Backoffs compute base * 2**failures: the cap is reached long before this, and the
# float overflows at 2**1024 (about an hour of outage at the cap).
_MAX_COUNTED_FAILURES = 16


def default_backoff() -> AbstractBackoff:
    """0.25 to 0.5 s after the first failure, doubling up to 2.5 to 5 s: back within
    seconds of the dependency. redis-py's, as the Redis client's own retries are."""
    return EqualJitterBackoff(cap=5.0, base=0.25)


def outage_delay(backoff: AbstractBackoff, failures: int) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row."""
    return backoff.compute(min(failures, _MAX_COUNTED_FAILURES))


@dataclass(frozen=True, slots=True)
class Dependency:
    name: str
    """As the readiness checks name it: ``redis``, ``postgres``, ``s3``."""
    connect: Callable[[], Awaitable[object]]
    """Idempotent: after a failure it runs again from the start."""


def redis_answers(client: redis.Redis) -> Dependency:
    return Dependency("redis", functools.partial(ping, client))


POSTGRES = "postgres"
"""The PostgreSQL step's name, as the readiness checks name it."""


def database_migrated(pool: asyncpg.Pool) -> Dependency:
    return Dependency(POSTGRES, functools.partial(apply_migrations, pool))


class Connector:
    """Connects each dependency in its own background task until all have connected."""

    def __init__(
        self,
        dependencies: Sequence[Dependency],
        *,
        backoff: AbstractBackoff | None = None,
        attempt_timeout: float = ATTEMPT_TIMEOUT_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._dependencies = list(dependencies)
        self._backoff = backoff if backoff is not None else default_backoff()
        self._attempt_timeout = attempt_timeout
        self._sleep = sleep
        self._connected: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Connector:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._connect(dependency), name=f"connect-{dependency.name}")
            for dependency in self._dependencies
        ]

    async def aclose(self) -> None:
        """Stop connecting (a stop requested during an outage)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def is_connected(self) -> bool:
        return len(self._connected) == len(self._dependencies)

    def has_connected(self, name: str) -> bool:
        return name in self._connected

    def checks(self) -> dict[str, bool]:
        return {d.name: d.name in self._connected for d in self._dependencies}

    def readiness(self, live: ReadyCheck) -> ReadyCheck:
        """Not ready until every dependency has connected once; from then on ``live``
        decides (a dependency that was never reached is not probed on every request)."""

        async def ready() -> dict[str, bool]:
            if not self.is_connected:
                return self.checks()
            return self.checks() | await live()

        return ready

    async def wait(self, stop: asyncio.Event | None = None) -> bool:
        """True once every dependency has connected, False if ``stop`` is set first.

        Raises what a connect step raised that was not an outage.
        """
        if len(self._tasks) != len(self._dependencies):
            raise RuntimeError("Connector.wait() before start()")
        pending: set[asyncio.Task[Any]] = set(self._tasks)
        stopped = asyncio.create_task(stop.wait()) if stop is not None else None
        try:
            while pending:
                waiting = pending if stopped is None else pending | {stopped}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in done & pending:
                    task.result()
                pending -= done
                if stopped in done:
                    return False
            return True
        finally:
            if stopped is not None:
                stopped.cancel()

    async def _connect(self, dependency: Dependency) -> None:
        started = time.monotonic()
        failures = 0
        while True:
            try:
                async with asyncio.timeout(self._attempt_timeout):
                    await dependency.connect()
                break
            except (DependencyUnavailable, TimeoutError) as exc:
                failures += 1
                error = str(exc) or f"no answer within {self._attempt_timeout:g} s"
                if failures == 1:
                    log.warning("dependency_unavailable", dependency=dependency.name, error=error)
                else:
                    log.debug(
                        "dependency_retry",
                        dependency=dependency.name,
                        attempt=failures,
                        error=error,
                    )
                await self._sleep(outage_delay(self._backoff, failures))
            except Exception:
                log.exception("dependency_connect_failed", dependency=dependency.name)
                raise
        self._connected.add(dependency.name)
        log.info(
            "dependency_connected",
            dependency=dependency.name,
            attempts=failures + 1,
            waited_seconds=round(time.monotonic() - started, 3),
        )


async def run_once_connected(
    connector: Connector, work: Callable[[], Awaitable[object]], stop: Callable[[], None]
) -> None:
    """Run ``work`` once every dependency has connected; SIGTERM and SIGINT call ``stop``
    (which makes ``work`` return), or end the wait when they come before that."""
    stopping = asyncio.Event()

    def on_signal() -> None:
        stopping.set()
        stop()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)
    if await connector.wait(stopping):
        await work()
