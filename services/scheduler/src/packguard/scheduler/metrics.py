"""The scheduler's Prometheus gauges, set from one QueueSnapshot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge

from packguard.common.caps import concurrency_cap
from packguard.scheduler.queue_stats import QueueSnapshot
from packguard.scheduler.scaling import desired_replicas


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        def gauge(name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
            return Gauge(name, doc, labels, registry=registry)

        self.queue_length = gauge(
            "packguard_scheduler_queue_length",
            "Entries on a stream (waiting + in hand).",
            ["stream"],
        )
        self.queue_lag = gauge(
            "packguard_scheduler_queue_lag", "Entries not yet delivered to the group.", ["stream"]
        )
        self.queue_pending = gauge(
            "packguard_scheduler_queue_pending", "Entries delivered, not acked.", ["stream"]
        )
        self.delayed_tasks = gauge(
            "packguard_scheduler_delayed_tasks", "Tasks waiting for their not_before."
        )
        self.dead_letter_length = gauge(
            "packguard_scheduler_dead_letter_length", "Entries on the dead-letter stream."
        )
        self.desired_replicas = gauge(
            "packguard_runner_desired_replicas", "Runners the queue needs (scaling rule)."
        )
        self.oldest_waiting_seconds = gauge(
            "packguard_scheduler_oldest_waiting_seconds",
            "Age of the oldest task waiting on a ready stream.",
        )
        self.slots_in_use = gauge(
            "packguard_scheduler_ecosystem_slots_in_use", "Running leases.", ["ecosystem"]
        )
        self.slots_capacity = gauge(
            "packguard_scheduler_ecosystem_slots_capacity",
            "ECOSYSTEM_CONCURRENCY cap of a capped ecosystem.",
            ["ecosystem"],
        )

    def observe(
        self,
        snapshot: QueueSnapshot,
        *,
        ready_streams: Sequence[str],
        caps: Mapping[str, int],
        max_replicas: int,
        now: datetime,
    ) -> None:
        for stream, stats in snapshot.streams.items():
            self.queue_length.labels(stream).set(stats.length)
            self.queue_lag.labels(stream).set(stats.lag)
            self.queue_pending.labels(stream).set(stats.pending)
        self.delayed_tasks.set(snapshot.delayed)
        self.dead_letter_length.set(snapshot.dead_letter)
        queued = snapshot.queued(ready_streams)
        self.desired_replicas.set(desired_replicas(queued, max_replicas=max_replicas))
        self.oldest_waiting_seconds.set(snapshot.oldest_waiting_seconds(ready_streams, now))
        for ecosystem, in_use in snapshot.slots_in_use.items():
            self.slots_in_use.labels(ecosystem).set(in_use)
            cap = concurrency_cap(caps, ecosystem)
            if cap is not None:
                self.slots_capacity.labels(ecosystem).set(cap)
