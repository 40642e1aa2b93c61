"""The gateway's Prometheus metrics, in a registry of its own (one per application)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class GatewayMetrics:
    def __init__(self) -> None:
        self._latency_children: dict[tuple[str, str, int], Histogram] = {}
        self.registry = CollectorRegistry()
        self.request_duration = Histogram(
            "packguard_gateway_http_request_duration_seconds",
            "HTTP request latency by route, method and status.",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tasks_submitted = Counter(
            "packguard_gateway_tasks_submitted",
            "Submissions by outcome: created, deduplicated, cached, replayed.",
            ["outcome"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "packguard_gateway_rate_limited",
            "Requests refused by the per-key rate limit.",
            registry=self.registry,
        )
        self.publish_failures = Counter(
            "packguard_gateway_publish_failures",
            "Tasks stored but not published (the scheduler's sweeper publishes them).",
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One request's latency. The labelled child is kept per (route, method, status):
        ``labels()`` takes a lock and builds its key on every call."""
        key = (route, method, status)
        child = self._latency_children.get(key)
        if child is None:
            child = self._latency_children[key] = self.request_duration.labels(
                route, method, str(status)
            )
        child.observe(seconds)
