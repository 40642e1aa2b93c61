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
    MalformedMessage,
    TaskEvent,
    TaskMessage,
    decode_message,
)
from packguard.common.purl import PackageRef, parse_purl
from packguard.common.streams import (
    BatchedPublisher,
    ConsumerOptions,
    Delivery,
    StreamConsumer,
)
from packguard.common.tracing import consumer_span, current_trace_context
from packguard.runner.analysis import AnalysisCancelled
from packguard.runner.backends import AnalysisBackend
from packguard.runner.metrics import RunnerMetrics
from packguard.runner.settings import RunnerSettings
from packguard.runner.slots import EcosystemSlots

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("packguard.runner")


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
        # The tasks in hand share round trips: their events go out in one pipeline per
        # event-loop tick, and so do their cancel checks.
        self._publisher = BatchedPublisher(deps.redis)
        self._cancel_checks: Coalescer[str, bool] = Coalescer(self._cancel_flags)

    async def handle(self, task: TaskMessage, delivery: Delivery) -> None:
        with consumer_span(
            tracer,
            "runner.analyze",
            task.trace_context,
            task_id=task.task_id,
            attempt=task.attempt,
            purl=task.purl,
        ):
            if await self._is_cancelled(task):
                await self._emit(task, "cancelled")
                return
            try:
                package = parse_purl(task.purl, allow_upload=True)
            except PackguardError as exc:
                await self._emit(task, "failed", error=exc)
                return
            async with self._slots.held(package.ecosystem.value, task.task_id):
                self._deps.metrics.busy.inc()
                try:
                    await self._run(task, package)
                finally:
                    self._deps.metrics.busy.dec()

    async def _run(self, task: TaskMessage, package: PackageRef) -> None:
        started = time.monotonic()
        await self._emit(task, "running", phase="fetch")
        try:
            outcome = await self._deps.backend.analyze(
                task,
                package,
                on_phase=lambda phase: self._emit(task, "phase", phase=phase),
                is_cancelled=lambda: self._is_cancelled(task),
            )
        except AnalysisCancelled:
            self._deps.metrics.tasks.labels("cancelled").inc()
            await self._emit(task, "cancelled")
        except PackguardError as exc:
            await self._fail_or_retry(task, exc)
        else:
            self._deps.metrics.tasks.labels("completed").inc()
            self._deps.metrics.analysis_seconds.labels(package.ecosystem.value).observe(
                time.monotonic() - started
            )
            await self._emit(
                task, "completed", report=outcome.report, sha256=outcome.artifact_sha256
            )

    async def _fail_or_retry(self, task: TaskMessage, error: PackguardError) -> None:
        log.warning("analysis_failed", error_code=error.code, error=error.message)
        if error.retryable:
            self._deps.metrics.tasks.labels("retried").inc()
            retry = task.model_copy(
                update={
                    "attempt": task.attempt + 1,
                    "retry_reason": error.code,
                    "trace_context": current_trace_context(),
                }
            )
            await self._publisher.publish(self._settings.submitted_stream, retry)
            return
        self._deps.metrics.tasks.labels("failed").inc()
        self._deps.metrics.container_failures.labels(error.code).inc()
        await self._emit(task, "failed", error=error)

    async def on_dead_letter(self, letter: DeadLetter) -> None:
        fields = {key.encode(): value.encode() for key, value in letter.fields.items()}
        try:
            task = decode_message(TaskMessage, fields)
        except MalformedMessage:
            return  # nothing to attribute it to; it stays in the dead-letter stream
        await self._emit(
            task,
            "failed",
            error=PackguardError(f"task was delivered {letter.deliveries} times without finishing"),
            code="dead_lettered",
        )

    async def _is_cancelled(self, task: TaskMessage) -> bool:
        return await self._cancel_checks(keys.CANCEL_KEY_PREFIX + str(task.task_id))

    async def _cancel_flags(self, cancel_keys: Sequence[str]) -> list[bool]:
        async with self._deps.redis.pipeline(transaction=False) as pipe:
            for key in cancel_keys:
                pipe.exists(key)
            return [bool(found) for found in await pipe.execute()]

    async def _emit(
        self,
        task: TaskMessage,
        kind: str,
        *,
        phase: str | None = None,
        error: PackguardError | None = None,
        code: str | None = None,
        report: object = None,
        sha256: str | None = None,
    ) -> None:
        event = TaskEvent.model_validate(
            {
                "task_id": task.task_id,
                "kind": kind,
                "attempt": task.attempt,
                "phase": phase,
                "error_code": code or (error.code if error else None),
                "error_message": error.message[:2000] if error else None,
                "report": report,
                "artifact_sha256": sha256,
                "trace_context": current_trace_context(),
            }
        )
        await self._publisher.publish(self._settings.events_stream, event)
