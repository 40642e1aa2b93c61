"""The runner's Prometheus metrics, on a registry passed in (no module-global state)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True, slots=True)
class RunnerMetrics:
    tasks: Counter
    analysis_seconds: Histogram
    fetch_seconds: Histogram
    container_failures: Counter
    busy: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> RunnerMetrics:
        return cls(
            tasks=Counter(
                "packguard_runner_tasks",
                "Tasks handled, by outcome",
                ["outcome"],
                registry=registry,
            ),
            analysis_seconds=Histogram(
                "packguard_runner_analysis_duration_seconds",
                "Wall time of one analysis, fetch to report",
                ["ecosystem"],
                buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800),
                registry=registry,
            ),
            fetch_seconds=Histogram(
                "packguard_runner_fetch_duration_seconds",
                "Wall time of fetching and verifying a task's artifacts (registry or upload)",
                ["ecosystem"],
                buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
                registry=registry,
            ),
            container_failures=Counter(
                "packguard_runner_container_failures",
                "Sandbox runs that did not yield a report",
                ["reason"],
                registry=registry,
            ),
            busy=Gauge(
                "packguard_runner_busy_workers",
                "Analyses running in this process",
                registry=registry,
            ),
        )
