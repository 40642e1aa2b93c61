"""Tables for place_task: where an accepted submission goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from packguard.common.messages import TaskMessage
from packguard.scheduler.placement import (
    RETRIES_EXHAUSTED,
    Delay,
    Enqueue,
    GiveUp,
    Placement,
    PlacementPolicy,
    place_task,
)
from packguard.scheduler.priority import QueueTarget

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
POLICY = PlacementPolicy(
    priority_threshold=5,
    max_attempts=3,
    retry_base_seconds=10.0,
    retry_cap_seconds=600.0,
    retry_jitter_fraction=0.0,
)


class FixedRandom:
    def random(self) -> float:
        return 0.5


def _message(**fields: object) -> TaskMessage:
    base: dict[str, object] = {
        "task_id": uuid4(),
        "purl": "pkg:pypi/six@1.16.0",
        "created_at": NOW,
    }
    return TaskMessage.model_validate(base | fields)


def _in(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, Enqueue(QueueTarget.READY)),
        ({"priority": 5}, Enqueue(QueueTarget.PRIORITY)),
        ({"not_before": _in(-5)}, Enqueue(QueueTarget.READY)),
        ({"not_before": NOW}, Enqueue(QueueTarget.READY)),
        ({"not_before": _in(30)}, Delay(QueueTarget.READY, _in(30))),
        ({"priority": 9, "not_before": _in(30)}, Delay(QueueTarget.PRIORITY, _in(30))),
        ({"attempt": 2}, Delay(QueueTarget.READY, _in(10))),
        ({"attempt": 3, "priority": 7}, Delay(QueueTarget.PRIORITY, _in(20))),
        ({"attempt": 2, "not_before": _in(300)}, Delay(QueueTarget.READY, _in(300))),
        ({"attempt": 2, "not_before": _in(3)}, Delay(QueueTarget.READY, _in(10))),
        (
            {"attempt": 4, "retry_reason": "registry_unavailable"},
            GiveUp("registry_unavailable", "gave up after 3 attempts: registry_unavailable"),
        ),
        (
            {"attempt": 9},
            GiveUp(RETRIES_EXHAUSTED, f"gave up after 8 attempts: {RETRIES_EXHAUSTED}"),
        ),
    ],
)
def test_place_task_message_gets_placement(fields: dict[str, object], expected: Placement) -> None:
    assert place_task(_message(**fields), now=NOW, policy=POLICY, rng=FixedRandom()) == expected


def test_place_task_single_attempt_policy_gives_up_on_first_retry() -> None:
    policy = PlacementPolicy(
        priority_threshold=5,
        max_attempts=1,
        retry_base_seconds=1,
        retry_cap_seconds=1,
        retry_jitter_fraction=0,
    )
    placement = place_task(
        _message(attempt=2, retry_reason="timeout"), now=NOW, policy=policy, rng=FixedRandom()
    )
    assert placement == GiveUp("timeout", "gave up after 1 attempt: timeout")


def test_place_task_retry_jitter_shortens_delay() -> None:
    policy = PlacementPolicy(
        priority_threshold=5,
        max_attempts=3,
        retry_base_seconds=10,
        retry_cap_seconds=600,
        retry_jitter_fraction=0.5,
    )
    placement = place_task(_message(attempt=2), now=NOW, policy=policy, rng=FixedRandom())
    assert placement == Delay(QueueTarget.READY, _in(7.5))
