"""Connecting in the background: retries with backoff, readiness, stop, one warning."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from redis.backoff import AbstractBackoff
from structlog.testing import capture_logs

from packguard.common.errors import DependencyUnavailable
from packguard.common.startup import Connector, Dependency


class FlakyStep:
    """A connect step that meets an outage ``outage`` times, then connects."""

    def __init__(self, outage: int, *, error: Exception | None = None) -> None:
        self.outage = outage
        self.error = error or DependencyUnavailable("database unavailable: refused")
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.outage:
            raise self.error


class RecordingBackoff(AbstractBackoff):
    def __init__(self) -> None:
        self.failures: list[int] = []

    def compute(self, failures: int) -> float:
        self.failures.append(failures)
        return 0.0


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def _connector(*dependencies: Dependency, **options: Any) -> Connector:
    options.setdefault("backoff", RecordingBackoff())
    return Connector(dependencies, sleep=_no_sleep, **options)


@pytest.fixture(autouse=True)
def _logs_unfiltered() -> Iterator[None]:
    # Other tests configure structlog with a level filter that capture_logs keeps.
    saved = structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.configure(**saved)


async def test_an_outage_is_retried_with_backoff_until_the_dependency_connects() -> None:
    step = FlakyStep(outage=3)
    backoff = RecordingBackoff()
    with capture_logs() as logs:
        async with _connector(Dependency("postgres", step), backoff=backoff) as connector:
            assert await connector.wait()
            assert connector.is_connected
            assert connector.checks() == {"postgres": True}

    assert step.calls == 4
    assert backoff.failures == [1, 2, 3]
    events = [(entry["event"], entry["log_level"]) for entry in logs]
    assert events == [
        ("dependency_unavailable", "warning"),
        ("dependency_retry", "debug"),
        ("dependency_retry", "debug"),
        ("dependency_connected", "info"),
    ]
    assert logs[0]["error"] == "database unavailable: refused"
    assert logs[-1]["attempts"] == 4


async def test_a_dependency_that_answers_at_once_logs_no_warning() -> None:
    with capture_logs() as logs:
        async with _connector(Dependency("redis", FlakyStep(outage=0))) as connector:
            assert await connector.wait()
    assert [entry["event"] for entry in logs] == ["dependency_connected"]


async def test_the_backoff_failure_count_is_capped_so_long_outages_never_overflow() -> None:
    backoff = RecordingBackoff()
    async with _connector(Dependency("s3", FlakyStep(outage=40)), backoff=backoff) as connector:
        assert await connector.wait()
    assert len(backoff.failures) == 40
    assert max(backoff.failures) == 16


async def test_an_attempt_that_hangs_times_out_and_is_retried() -> None:
    calls = 0

    async def hangs_once() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.Event().wait()

    with capture_logs() as logs:
        async with _connector(Dependency("s3", hangs_once), attempt_timeout=0.01) as connector:
            assert await connector.wait()
    assert calls == 2
    assert logs[0]["event"] == "dependency_unavailable"
    assert "no answer within 0.01 s" in logs[0]["error"]


async def test_an_error_that_is_not_an_outage_ends_the_wait() -> None:
    broken = FlakyStep(outage=1, error=ValueError("relation does not exist"))
    with capture_logs() as logs:
        async with _connector(Dependency("postgres", broken)) as connector:
            with pytest.raises(ValueError, match="relation"):
                await connector.wait()
            assert not connector.is_connected
    assert broken.calls == 1
    assert logs[-1]["event"] == "dependency_connect_failed"


async def test_stop_ends_the_wait_during_an_outage() -> None:
    stop = asyncio.Event()
    never = FlakyStep(outage=10**9)
    async with _connector(Dependency("redis", never)) as connector:
        waiting = asyncio.create_task(connector.wait(stop))
        await asyncio.sleep(0.01)
        stop.set()
        assert await waiting is False
    assert not connector.is_connected


async def test_wait_returns_once_every_dependency_has_connected() -> None:
    async with _connector(
        Dependency("redis", FlakyStep(outage=0)),
        Dependency("postgres", FlakyStep(outage=5)),
        Dependency("s3", FlakyStep(outage=2)),
    ) as connector:
        assert await connector.wait()
        assert connector.checks() == {"redis": True, "postgres": True, "s3": True}


async def test_readiness_is_the_connection_state_until_connected_then_the_live_checks() -> None:
    live_calls = 0

    async def live() -> dict[str, bool]:
        nonlocal live_calls
        live_calls += 1
        return {"redis": True, "postgres": False}

    release = asyncio.Event()

    async def gated() -> None:
        await release.wait()

    async with _connector(
        Dependency("redis", FlakyStep(outage=0)), Dependency("postgres", gated)
    ) as connector:
        ready = connector.readiness(live)
        await asyncio.sleep(0.01)
        assert await ready() == {"redis": True, "postgres": False}
        assert live_calls == 0  # nothing probed before the first connection
        assert connector.has_connected("redis") and not connector.has_connected("postgres")
        release.set()
        assert await connector.wait()
        assert await ready() == {"redis": True, "postgres": False}
        assert live_calls == 1


async def test_wait_before_start_is_a_programming_error() -> None:
    connector = Connector([Dependency("redis", FlakyStep(outage=0))])
    with pytest.raises(RuntimeError):
        await connector.wait()
