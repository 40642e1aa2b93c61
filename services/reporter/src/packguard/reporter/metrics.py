"""The reporter's Prometheus metrics."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram

from packguard.reporter.notify import TaskFinished

_DURATION_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600)
NO_VERDICT = "none"


class ReporterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "packguard_reporter_events_total",
            "Task events handled, applied or not.",
            ["kind"],
            registry=registry,
        )
        self.tasks_finished = Counter(
            "packguard_reporter_tasks_finished_total",
            "Tasks that reached completed or failed.",
            ["status", "verdict"],
            registry=registry,
        )
        self.analysis_duration = Histogram(
            "packguard_reporter_analysis_duration_seconds",
            "From a task's start (running) to its end.",
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )

    def observe_finished(self, outcome: TaskFinished, started_at: datetime | None) -> None:
        verdict = outcome.verdict_label or NO_VERDICT
        self.tasks_finished.labels(outcome.status.value, verdict).inc()
        if started_at is not None and outcome.finished_at >= started_at:
            self.analysis_duration.observe((outcome.finished_at - started_at).total_seconds())
