"""OpenTelemetry: one trace from the gateway through every stream hop to the reporter.

The exporter is chosen by the standard ``OTEL_TRACES_EXPORTER`` variable and is off by
default. Trace context travels inside each message (``trace_context``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from uuid import UUID

import structlog
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind


def configure_tracing(service: str) -> TracerProvider:
    exporter = _exporter_from_env()
    # With no exporter no recorded span is ever read: spans still get ids (log lines and
    # messages carry them) but record nothing, which halves what a span costs.
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service}),
        sampler=None if exporter is not None else ALWAYS_OFF,
    )
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _exporter_from_env() -> SpanExporter | None:
    name = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        # Optional dependency: only deployments that export traces install it.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]
            OTLPSpanExporter,
        )

        exporter: SpanExporter = OTLPSpanExporter()
        return exporter
    return None


def current_trace_context() -> dict[str, str]:
    """The active span's context as a W3C carrier to put in a message."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(carrier: dict[str, str]) -> context.Context:
    return propagate.extract(carrier)


@contextlib.contextmanager
def consumer_span(
    tracer: trace.Tracer,
    name: str,
    carrier: dict[str, str],
    *,
    task_id: UUID,
    attempt: int,
    **log_context: object,
) -> Iterator[None]:
    """A span continuing a message's trace, with the task bound into the log context.

    Every stream consumer handles a message inside one of these, so a task's spans form
    one trace and its log lines carry the same ``task_id``, ``attempt`` and ``trace_id``.
    """
    with (
        tracer.start_as_current_span(
            name,
            context=context_from(carrier),
            kind=SpanKind.CONSUMER,
            attributes={"packguard.task_id": str(task_id), "packguard.attempt": attempt},
        ) as span,
        structlog.contextvars.bound_contextvars(
            task_id=str(task_id),
            attempt=attempt,
            trace_id=format(span.get_span_context().trace_id, "032x"),
            **log_context,
        ),
    ):
        yield
