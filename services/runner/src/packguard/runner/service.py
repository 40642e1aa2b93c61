"""The runner: claim a task, analyse it through its backend, report the outcome."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as redis
import structlog
from opentelemetry import trace

from packguard.common import keys
from packguard.common.coalescing import Coalescer
from packguard.common.errors import PackguardError
from packguard.common.messages import (
    DeadLetter,
    EventKind,
    MalformedMessage,
    TaskEvent,
    TaskMessage,
    decode_message,
    encode_message,
)
from packguard.common.purl import PackageRef, parse_purl
from packguard.common.report import AnalysisReport
from packguard.common.streams import (
    BatchedPublisher,
    ConsumerOptions,
    Delivery,
    Reply,
    StreamConsumer,
)
from packguard.common.tracing import consumer_span, current_trace_context
from packguard.runner.analysis import AnalysisCancelled
from packguard.runner.backends import ANALYZE_PHASE, AnalysisBackend
from packguard.runner.metrics import RunnerMetrics
from packguard.runner.settings import RunnerSettings
from packguard.runner.slots import EcosystemSlots

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("packguard.runner")

# Start a task unless it was cancelled: the cancel check and the running event in one
# step, so the tasks of one read start in one round trip. 1 if started, 0 if cancelled.
_START_UNLESS_CANCELLED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('XADD', KEYS[2], '*', ARGV[1], ARGV[2])
return 1
"""


@dataclass(frozen=True, slots=True)
class RunnerDependencies:
    redis: redis.Redis
    backend: AnalysisBackend
    metrics: RunnerMetrics


class Runner:
    def __init__(self, settings: RunnerSettings, deps: RunnerDependencies, consumer: str) -> None:
        self._settings = settings
        self._deps = deps
        self._slots = EcosystemSlots(
            deps.redis, settings.ecosystem_concurrency, lease_seconds=settings.slot_lease_seconds
        )
        self.consumer: StreamConsumer[TaskMessage] = StreamConsumer(
            deps.redis,
            streams=[settings.priority_stream, settings.ready_stream],
            group=keys.RUNNERS_GROUP,
            consumer=consumer,
            model=TaskMessage,
            handler=self.handle,
            dead_letter_stream=settings.dead_letter_stream,
            options=ConsumerOptions(
                concurrency=settings.worker_concurrency,
                claim_idle_ms=settings.claim_idle_ms,
                max_deliveries=settings.max_deliveries,
            ),
            on_dead_letter=self.on_dead_letter,
        )
        # The tasks in hand share round trips: their starts, phase events and cancel
        # checks go out in one pipeline per event-loop tick, and each task's last message
        # (its outcome or retry) goes out with its ack (see streams.Reply).
        self._publisher = BatchedPublisher(deps.redis)
        self._starts: Coalescer[tuple[str, TaskEvent], bool] = Coalescer(self._start_batch)
        self._cancel_checks: Coalescer[str, bool] = Coalescer(self._cancel_flags)

    async def handle(self, task: TaskMessage, delivery: Delivery) -> list[Reply]:
        with consumer_span(
            tracer,
            "runner.analyze",
            task.trace_context,
            task_id=task.task_id,
            attempt=task.attempt,
            purl=task.purl,
        ):
            trace_context = current_trace_context()
            try:
                package = parse_purl(task.purl, allow_upload=True)
            except PackguardError as exc:
                return [self._outcome(task, "failed", trace_context, error=exc)]
            async with self._slots.held(package.ecosystem.value, task.task_id):
                running = self._event(task, "running", trace_context, phase="fetch")
                if not await self._starts((_cancel_key(task), running)):
                    return [self._outcome(task, "cancelled", trace_context)]
                self._deps.metrics.busy.inc()
                try:
                    return [await self._run(task, package, trace_context)]
                finally:
                    self._deps.metrics.busy.dec()

    async def _run(
        self, task: TaskMessage, package: PackageRef, trace_context: dict[str, str]
    ) -> Reply:
        started = time.monotonic()
        try:
            outcome = await self._deps.backend.analyze(
                task,
                package,
                on_phase=lambda phase: self._on_phase(task, package, phase, started, trace_context),
                is_cancelled=lambda: self._cancel_checks(_cancel_key(task)),
            )
        except AnalysisCancelled:
            self._deps.metrics.tasks.labels("cancelled").inc()
            return self._outcome(task, "cancelled", trace_context)
        except PackguardError as exc:
            return self._fail_or_retry(task, exc, trace_context)
        self._deps.metrics.tasks.labels("completed").inc()
        self._deps.metrics.analysis_seconds.labels(package.ecosystem.value).observe(
            time.monotonic() - started
        )
        return self._outcome(
            task,
            "completed",
            trace_context,
            report=outcome.report,
            sha256=outcome.artifact_sha256,
        )

    def _fail_or_retry(
        self, task: TaskMessage, error: PackguardError, trace_context: dict[str, str]
    ) -> Reply:
        log.warning("analysis_failed", error_code=error.code, error=error.message)
        if error.retryable:
            self._deps.metrics.tasks.labels("retried").inc()
            retry = task.model_copy(
                update={
                    "attempt": task.attempt + 1,
                    "retry_reason": error.code,
                    "trace_context": trace_context,
                }
            )
            return Reply(self._settings.submitted_stream, retry)
        self._deps.metrics.tasks.labels("failed").inc()
        self._deps.metrics.container_failures.labels(error.code).inc()
        return self._outcome(task, "failed", trace_context, error=error)

    async def on_dead_letter(self, letter: DeadLetter) -> None:
        fields = {key.encode(): value.encode() for key, value in letter.fields.items()}
        try:
            task = decode_message(TaskMessage, fields)
        except MalformedMessage:
            return  # nothing to attribute it to; it stays in the dead-letter stream
        error = PackguardError(f"task was delivered {letter.deliveries} times without finishing")
        failed = self._event(
            task, "failed", current_trace_context(), error=error, code="dead_lettered"
        )
        await self._publish_event(failed)

    async def _start_batch(self, starts: Sequence[tuple[str, TaskEvent]]) -> list[bool]:
        events_stream = self._settings.events_stream
        async with self._deps.redis.pipeline(transaction=False) as pipe:
            for cancel_key, running in starts:
                ((field, value),) = encode_message(running).items()
                # EVAL, not a registered script: a pipeline would check it exists first.
                pipe.eval(_START_UNLESS_CANCELLED, 2, cancel_key, events_stream, field, value)
            return [bool(started) for started in await pipe.execute()]

    async def _cancel_flags(self, cancel_keys: Sequence[str]) -> list[bool]:
        async with self._deps.redis.pipeline(transaction=False) as pipe:
            for key in cancel_keys:
                pipe.exists(key)
            return [bool(found) for found in await pipe.execute()]

    async def _on_phase(
        self,
        task: TaskMessage,
        package: PackageRef,
        phase: str,
        started: float,
        trace_context: dict[str, str],
    ) -> None:
        if phase == ANALYZE_PHASE:  # the artifacts are in: fetching took until now
            self._deps.metrics.fetch_seconds.labels(package.ecosystem.value).observe(
                time.monotonic() - started
            )
        await self._publish_event(self._event(task, "phase", trace_context, phase=phase))

    async def _publish_event(self, event: TaskEvent) -> None:
        await self._publisher.publish(self._settings.events_stream, event)

    def _outcome(
        self,
        task: TaskMessage,
        kind: EventKind,
        trace_context: dict[str, str],
        *,
        error: PackguardError | None = None,
        report: AnalysisReport | None = None,
        sha256: str | None = None,
    ) -> Reply:
        """A task's last event, published with the ack of its message."""
        event = self._event(task, kind, trace_context, error=error, report=report, sha256=sha256)
        return Reply(self._settings.events_stream, event)

    @staticmethod
    def _event(
        task: TaskMessage,
        kind: EventKind,
        trace_context: dict[str, str],
        *,
        phase: str | None = None,
        error: PackguardError | None = None,
        code: str | None = None,
        report: AnalysisReport | None = None,
        sha256: str | None = None,
    ) -> TaskEvent:
        return TaskEvent(
            task_id=task.task_id,
            kind=kind,
            attempt=task.attempt,
            phase=phase,
            error_code=code or (error.code if error else None),
            error_message=error.message[:2000] if error else None,
            report=report,
            artifact_sha256=sha256,
            trace_context=trace_context,
        )


def _cancel_key(task: TaskMessage) -> str:
    return keys.CANCEL_KEY_PREFIX + str(task.task_id)
