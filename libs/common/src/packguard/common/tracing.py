"""OpenTelemetry: one trace from the gateway through every stream hop to the reporter.

The exporter is chosen by the standard ``OTEL_TRACES_EXPORTER`` variable and is off by
default. Trace context travels inside each message (``trace_context``).
"""

from __future__ import annotations

import os

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter


def configure_tracing(service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    exporter = _exporter_from_env()
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
