"""QueueSnapshot arithmetic and the gauges it sets (no Redis: values in, gauges out)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from packguard.scheduler.metrics import SchedulerMetrics
from packguard.scheduler.queue_stats import QueueSnapshot, StreamStats

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
READY = ["prio", "ready"]


def _snapshot(**streams: StreamStats) -> QueueSnapshot:
    base = {"submitted": StreamStats(0, 0, 0), "prio": StreamStats(0, 0, 0)}
    base["ready"] = StreamStats(0, 0, 0)
    return QueueSnapshot(streams=base | streams, delayed=0, dead_letter=0)


@pytest.mark.parametrize(
    ("prio", "ready", "queued"),
    [
        (StreamStats(0, 0, 0), StreamStats(0, 0, 0), 0),
        (StreamStats(3, 2, 1), StreamStats(0, 0, 0), 3),
        (StreamStats(3, 2, 1), StreamStats(10, 6, 4), 13),
        (StreamStats(1, 0, 1), StreamStats(0, 0, 0), 1),
    ],
)
def test_queue_snapshot_queued_counts_waiting_and_running(
    prio: StreamStats, ready: StreamStats, queued: int
) -> None:
    assert _snapshot(prio=prio, ready=ready).queued(READY) == queued


@pytest.mark.parametrize(
    ("prio_ms", "ready_ms", "seconds"),
    [
        (None, None, 0.0),
        (NOW_MS - 4000, None, 4.0),
        (NOW_MS - 4000, NOW_MS - 9500, 9.5),
        (NOW_MS + 2000, None, 0.0),
    ],
)
def test_queue_snapshot_oldest_waiting_uses_earliest_entry(
    prio_ms: int | None, ready_ms: int | None, seconds: float
) -> None:
    snapshot = _snapshot(prio=StreamStats(1, 1, 0, prio_ms), ready=StreamStats(1, 1, 0, ready_ms))
    assert snapshot.oldest_waiting_seconds(READY, NOW) == pytest.approx(seconds)


def test_scheduler_metrics_observe_sets_every_gauge() -> None:
    registry = CollectorRegistry()
    metrics = SchedulerMetrics(registry)
    snapshot = QueueSnapshot(
        streams={
            "submitted": StreamStats(2, 2, 0),
            "prio": StreamStats(5, 3, 2, NOW_MS - 7000),
            "ready": StreamStats(40, 30, 10, NOW_MS - 1000),
        },
        delayed=4,
        dead_letter=1,
        slots_in_use={"npm": 3, "pypi": 2},
    )
    metrics.observe(snapshot, ready_streams=READY, caps={"pypi": 9}, max_replicas=1000, now=NOW)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("packguard_scheduler_queue_length", stream="ready") == 40
    assert value("packguard_scheduler_queue_lag", stream="prio") == 3
    assert value("packguard_scheduler_queue_pending", stream="ready") == 10
    assert value("packguard_scheduler_queue_lag", stream="submitted") == 2
    assert value("packguard_scheduler_delayed_tasks") == 4
    assert value("packguard_scheduler_dead_letter_length") == 1
    assert value("packguard_runner_desired_replicas") == 5  # 45 queued: ceil(45 / 10)
    assert value("packguard_scheduler_oldest_waiting_seconds") == pytest.approx(7.0)
    assert value("packguard_scheduler_ecosystem_slots_in_use", ecosystem="npm") == 3
    assert value("packguard_scheduler_ecosystem_slots_capacity", ecosystem="pypi") == 9
    assert value("packguard_scheduler_ecosystem_slots_capacity", ecosystem="npm") is None
