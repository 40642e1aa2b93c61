"""Where an accepted task goes: a ready stream now, the delayed set, or a final failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from packguard.common.messages import TaskMessage
from packguard.scheduler.backoff import RandomSource, backoff_delay
from packguard.scheduler.priority import QueueTarget, queue_target

RETRIES_EXHAUSTED = "retries_exhausted"
"""Failure category when a task ran out of attempts without saying why."""


@dataclass(frozen=True, slots=True)
class PlacementPolicy:
    priority_threshold: int
    max_attempts: int
    retry_base_seconds: float
    retry_cap_seconds: float
    retry_jitter_fraction: float


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Ready now: append to the target stream."""

    target: QueueTarget


@dataclass(frozen=True, slots=True)
class Delay:
    """Not before ``release_at``: hold in the delayed set, then release to the target."""

    target: QueueTarget
    release_at: datetime


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Out of attempts: the task fails with the last retry's reason."""

    error_code: str
    error_message: str


Placement = Enqueue | Delay | GiveUp


def place_task(
    message: TaskMessage, *, now: datetime, policy: PlacementPolicy, rng: RandomSource
) -> Placement:
    """Attempt 1 waits for its ``not_before``; a retry also waits its backoff delay."""
    if message.attempt > policy.max_attempts:
        reason = message.retry_reason or RETRIES_EXHAUSTED
        ran = message.attempt - 1
        return GiveUp(
            error_code=reason,
            error_message=f"gave up after {ran} attempt{'s' if ran != 1 else ''}: {reason}",
        )
    target = queue_target(message.priority, threshold=policy.priority_threshold)
    delay = backoff_delay(
        message.attempt,
        base=policy.retry_base_seconds,
        cap=policy.retry_cap_seconds,
        jitter_fraction=policy.retry_jitter_fraction,
        rng=rng,
    )
    release_at = now + timedelta(seconds=delay)
    if message.not_before is not None and message.not_before > release_at:
        release_at = message.not_before
    if release_at > now:
        return Delay(target=target, release_at=release_at)
    return Enqueue(target=target)
