"""Tables for the scheduler's pure decisions: priority, backoff, scaling, caps."""

from __future__ import annotations

import pytest

from packguard.common.caps import concurrency_cap
from packguard.scheduler.backoff import backoff_delay
from packguard.scheduler.priority import QueueTarget, queue_target
from packguard.scheduler.scaling import desired_replicas


class FixedRandom:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("priority", "threshold", "expected"),
    [
        (0, 5, QueueTarget.READY),
        (4, 5, QueueTarget.READY),
        (5, 5, QueueTarget.PRIORITY),
        (10, 5, QueueTarget.PRIORITY),
        (0, 0, QueueTarget.PRIORITY),
        (10, 11, QueueTarget.READY),
    ],
)
def test_queue_target_threshold_picks_stream(
    priority: int, threshold: int, expected: QueueTarget
) -> None:
    assert queue_target(priority, threshold=threshold) is expected


def test_queue_target_default_threshold_is_five() -> None:
    assert queue_target(5) is QueueTarget.PRIORITY
    assert queue_target(4) is QueueTarget.READY


@pytest.mark.parametrize(
    ("attempt", "jitter", "draw", "expected"),
    [
        (1, 0.0, 0.0, 0.0),
        (0, 0.5, 0.9, 0.0),
        (2, 0.0, 0.0, 10.0),
        (3, 0.0, 0.0, 20.0),
        (4, 0.0, 0.0, 40.0),
        (7, 0.0, 0.0, 320.0),
        (8, 0.0, 0.0, 600.0),
        (50, 0.0, 0.0, 600.0),
        (10_000, 0.0, 0.0, 600.0),
        (2, 0.5, 0.0, 10.0),
        (2, 0.5, 0.5, 7.5),
        (2, 0.5, 0.999999, 5.000005),
        (9, 0.2, 0.5, 540.0),
        (3, 1.0, 0.25, 15.0),
    ],
)
def test_backoff_delay_attempt_and_jitter_give_delay(
    attempt: int, jitter: float, draw: float, expected: float
) -> None:
    delay = backoff_delay(
        attempt, base=10.0, cap=600.0, jitter_fraction=jitter, rng=FixedRandom(draw)
    )
    assert delay == pytest.approx(expected)


@pytest.mark.parametrize("attempt", range(2, 40))
@pytest.mark.parametrize("draw", [0.0, 0.3, 0.999999])
def test_backoff_delay_any_attempt_stays_within_jitter_band_and_cap(
    attempt: int, draw: float
) -> None:
    nominal = min(600.0, 10.0 * 2 ** (attempt - 2))
    delay = backoff_delay(attempt, base=10.0, cap=600.0, jitter_fraction=0.2, rng=FixedRandom(draw))
    assert 0.8 * nominal <= delay <= nominal <= 600.0


@pytest.mark.parametrize(
    ("base", "cap", "jitter"), [(-1.0, 10.0, 0.1), (1.0, -1.0, 0.1), (1.0, 10.0, 1.5)]
)
def test_backoff_delay_invalid_parameters_raise(base: float, cap: float, jitter: float) -> None:
    with pytest.raises(ValueError):
        backoff_delay(2, base=base, cap=cap, jitter_fraction=jitter, rng=FixedRandom(0.0))


@pytest.mark.parametrize(
    ("queued", "expected"),
    [
        (-3, 0),
        (0, 0),
        (1, 1),
        (9, 1),
        (10, 1),
        (11, 2),
        (20, 2),
        (49, 5),
        (50, 10),
        (51, 11),
        (199, 40),
        (200, 100),
        (201, 101),
        (1999, 1000),
        (2000, 1000),
        (10**9, 1000),
    ],
)
def test_desired_replicas_queued_gives_original_rule(queued: int, expected: int) -> None:
    assert desired_replicas(queued) == expected


@pytest.mark.parametrize(("queued", "cap", "expected"), [(500, 50, 50), (5, 0, 0), (300, 200, 150)])
def test_desired_replicas_custom_cap_limits_result(queued: int, cap: int, expected: int) -> None:
    assert desired_replicas(queued, max_replicas=cap) == expected


def test_desired_replicas_is_monotonic() -> None:
    results = [desired_replicas(q) for q in range(0, 2500)]
    assert results == sorted(results)


@pytest.mark.parametrize(
    ("caps", "ecosystem", "expected"),
    [
        ({}, "pypi", None),
        ({"pypi": 500, "npm": 300}, "pypi", 500),
        ({"pypi": 500, "npm": 300}, "npm", 300),
        ({"PyPI": 7}, "pypi", 7),
        ({"pypi": 7}, "PYPI", 7),
        ({"pypi": 500}, "npm", None),
        ({"pypi": 500, "*": 20}, "npm", 20),
        ({"npm": 0, "*": 20}, "npm", 0),
    ],
)
def test_concurrency_cap_lookup_returns_cap(
    caps: dict[str, int], ecosystem: str, expected: int | None
) -> None:
    assert concurrency_cap(caps, ecosystem) == expected
