"""The reporter: applies each TaskEvent to its task row, idempotently.

A handler that raises (PostgreSQL or S3 down) leaves the event unacknowledged; the
consumer never dead-letters it and retries it every ``CLAIM_IDLE_MS`` until it applies.
"""

from __future__ import annotations

import contextlib
import functools
from datetime import datetime
from uuid import UUID

import asyncpg
import redis.asyncio as redis
import structlog
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from packguard.common.coalescing import Coalescer
from packguard.common.db import translated_db_errors
from packguard.common.errors import DependencyUnavailable, InvalidInput
from packguard.common.messages import TaskEvent, TaskStatus
from packguard.common.purl import parse_purl
from packguard.common.redis_client import is_redis_ready
from packguard.common.storage import ReportStore, report_key
from packguard.common.streams import ConsumerOptions, Delivery, StreamConsumer
from packguard.common.tracing import consumer_span
from packguard.reporter import db
from packguard.reporter.db import TaskState
from packguard.reporter.metrics import ReporterMetrics
from packguard.reporter.notify import Notifier, NullNotifier, TaskFinished
from packguard.reporter.records import excerpt, finding_records
from packguard.reporter.settings import ReporterSettings
from packguard.reporter.transitions import Decision, event_decision

log = structlog.get_logger(__name__)

MISSING_REPORT = "analyzer_crashed"
"""Failure category of a ``completed`` event that carries no report."""
UNKNOWN_ERROR = "internal_error"


class Reporter:
    def __init__(
        self,
        *,
        settings: ReporterSettings,
        client: redis.Redis,
        pool: asyncpg.Pool,
        store: ReportStore,
        registry: CollectorRegistry,
        notifier: Notifier | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._pool = pool
        self._store = store
        self._notifier = notifier if notifier is not None else NullNotifier()
        self._metrics = ReporterMetrics(registry)
        self._tracer = trace.get_tracer(__name__)
        self._consumer = StreamConsumer(
            client,
            streams=[settings.events_stream],
            group=settings.reporter_group,
            consumer=settings.consumer_name,
            model=TaskEvent,
            handler=self.handle_event,
            dead_letter_stream=settings.dead_letter_stream,
            options=ConsumerOptions(
                concurrency=settings.consumer_concurrency,
                claim_idle_ms=settings.claim_idle_ms,
                max_deliveries=None,
            ),
        )
        # The events of one event-loop tick share their statements (see coalescing).
        self._reads: Coalescer[UUID, TaskState | None] = Coalescer(
            functools.partial(db.fetch_tasks, pool)
        )
        self._running: Coalescer[db.Running, bool] = Coalescer(
            functools.partial(db.set_running, pool)
        )
        self._phases: Coalescer[db.Phase, bool] = Coalescer(functools.partial(db.set_phase, pool))
        self._failures: Coalescer[db.Failure, db.Finished | None] = Coalescer(
            functools.partial(db.set_failed, pool)
        )
        self._completions: Coalescer[db.Completion, db.Finished | None] = Coalescer(
            functools.partial(db.save_completions, pool)
        )

    async def run(self, *, drain: bool = False) -> None:
        """Apply events until ``stop()``; with ``drain``, until none is left to apply."""
        await self._consumer.run(drain=drain)

    def stop(self) -> None:
        self._consumer.stop()

    async def readiness(self) -> dict[str, bool]:
        try:
            with translated_db_errors():
                await self._pool.fetchval("SELECT 1")
            database = True
        except DependencyUnavailable:
            database = False
        return {"redis": await is_redis_ready(self._client), "postgres": database}

    async def handle_event(self, event: TaskEvent, delivery: Delivery) -> None:
        with self._event_span(event):
            if event.kind == "running":
                await self._apply_running(event)
            elif event.kind == "phase":
                await self._apply_phase(event)
            elif event.kind == "completed":
                await self._apply_completed(event)
            elif event.kind == "failed":
                await self._apply_failed(event)
            else:
                self._applies(event, None)
            self._metrics.events.labels(event.kind).inc()

    def _applies(self, event: TaskEvent, task: TaskState | None) -> bool:
        decision = event_decision(
            event.kind,
            status=task.status if task else None,
            task_attempt=task.attempts if task else 0,
            event_attempt=event.attempt,
        )
        if decision is not Decision.APPLY:
            log.info("event_not_applied", kind=event.kind, reason=decision.value)
        return decision is Decision.APPLY

    async def _not_applied(self, event: TaskEvent) -> None:
        """Log why a conditional write skipped ``event`` (one read, off the usual path)."""
        if self._applies(event, await self._reads(event.task_id)):
            # The row allowed it but another copy of the event in the batch won.
            log.info("event_not_applied", kind=event.kind, reason="superseded")

    async def _apply_running(self, event: TaskEvent) -> None:
        if await self._running(db.Running(event.task_id, event.attempt, event.at)):
            log.debug("task_running")
        else:
            await self._not_applied(event)

    async def _apply_phase(self, event: TaskEvent) -> None:
        if not await self._phases(db.Phase(event.task_id, event.attempt, event.phase)):
            await self._not_applied(event)

    async def _apply_completed(self, event: TaskEvent) -> None:
        report = event.report
        if report is None:
            await self._apply_failed(
                event.model_copy(
                    update={
                        "error_code": MISSING_REPORT,
                        "error_message": "the completed event carried no report",
                    }
                )
            )
            return
        task = await self._reads(event.task_id)
        if task is None or not self._applies(event, task):
            return
        try:
            package = parse_purl(task.purl, allow_upload=True)
        except InvalidInput as exc:
            failure = {"error_code": exc.code, "error_message": exc.message}
            await self._apply_failed(event.model_copy(update=failure))
            return
        key = report_key(package, event.task_id)
        # Before the row: a redelivery rewrites the same object with the same bytes.
        await self._store.put(key, report.model_dump_json().encode())
        finished = await self._completions(
            db.Completion(
                task_id=event.task_id,
                report=report,
                findings=finding_records(report),
                report_key=key,
                artifact_sha256=event.artifact_sha256,
                finished_at=event.at,
            )
        )
        if finished is None:
            await self._not_applied(event)
            return
        outcome = TaskFinished(
            task_id=event.task_id,
            status=TaskStatus.COMPLETED,
            finished_at=event.at,
            verdict_label=report.verdict.label.value,
            verdict_score=report.verdict.score,
            report_key=key,
        )
        await self._finished(outcome, finished.started_at)

    async def _apply_failed(self, event: TaskEvent) -> None:
        category = event.error_code or UNKNOWN_ERROR
        message = excerpt(event.error_message, self._settings.error_message_max_chars)
        finished = await self._failures(db.Failure(event.task_id, category, message, event.at))
        if finished is None:
            await self._not_applied(event)
            return
        outcome = TaskFinished(
            task_id=event.task_id,
            status=TaskStatus.FAILED,
            finished_at=event.at,
            error_category=category,
            error_message=message,
        )
        await self._finished(outcome, finished.started_at)

    async def _finished(self, outcome: TaskFinished, started_at: datetime | None) -> None:
        """Once per task, after the final status is committed."""
        self._metrics.observe_finished(outcome, started_at)
        log.info(
            "task_finished",
            status=outcome.status.value,
            verdict=outcome.verdict_label,
            error_category=outcome.error_category,
        )
        await self._notifier.task_finished(outcome)

    def _event_span(self, event: TaskEvent) -> contextlib.AbstractContextManager[None]:
        return consumer_span(
            self._tracer,
            f"reporter.{event.kind}",
            event.trace_context,
            task_id=event.task_id,
            attempt=event.attempt,
            event_kind=event.kind,
        )
