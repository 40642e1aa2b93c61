"""The scheduler: the accept/retry handler and its release, sweep and metrics loops.

Steps and writers follow docs/task-lifecycle.md. The handler reads as fetch, decide,
act, ack: the message is the fetch, ``placement.place_task`` decides, a conditional
UPDATE and a Lua script act, and ``StreamConsumer`` acks when the handler returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import asyncpg
import redis.asyncio as redis
import structlog
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from packguard.common.caps import DEFAULT_CAP_KEY
from packguard.common.coalescing import Coalescer
from packguard.common.db import translated_db_errors
from packguard.common.errors import DependencyUnavailable
from packguard.common.messages import TaskEvent, TaskMessage, TaskStatus, utc_now
from packguard.common.purl import Ecosystem
from packguard.common.redis_client import is_redis_ready
from packguard.common.streams import (
    ConsumerOptions,
    Delivery,
    Reply,
    StreamConsumer,
    ensure_group,
    publish,
)
from packguard.common.tracing import consumer_span, current_trace_context
from packguard.scheduler import db
from packguard.scheduler.backoff import RandomSource
from packguard.scheduler.metrics import SchedulerMetrics
from packguard.scheduler.placement import Delay, Enqueue, GiveUp, PlacementPolicy, place_task
from packguard.scheduler.priority import QueueTarget, queue_target
from packguard.scheduler.queue_stats import (
    QueueSnapshot,
    read_slots_in_use,
    read_stream_stats,
)
from packguard.scheduler.queues import QueueNames, QueuePosition, TaskQueues
from packguard.scheduler.settings import SchedulerSettings

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
# What a loop iteration survives (logged, retried next tick); anything else is a bug
# that ends the loop, which cancels its siblings and exits the process non-zero.
_TRANSIENT_ERRORS = (DependencyUnavailable, redis.RedisError)


class Scheduler:
    def __init__(
        self,
        *,
        settings: SchedulerSettings,
        client: redis.Redis,
        pool: asyncpg.Pool,
        registry: CollectorRegistry,
        clock: Clock = utc_now,
        rng: RandomSource | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._pool = pool
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._policy = PlacementPolicy(
            priority_threshold=settings.priority_threshold,
            max_attempts=settings.max_attempts,
            retry_base_seconds=settings.retry_base_seconds,
            retry_cap_seconds=settings.retry_cap_seconds,
            retry_jitter_fraction=settings.retry_jitter_fraction,
        )
        self._queues = TaskQueues(
            client,
            QueueNames(
                priority_stream=settings.priority_stream,
                ready_stream=settings.ready_stream,
                delayed_zset=settings.delayed_zset,
                delayed_payload_hash=settings.delayed_payload_hash,
                delayed_target_hash=settings.delayed_target_hash,
            ),
        )
        self._metrics = SchedulerMetrics(registry)
        self._tracer = trace.get_tracer(__name__)
        self._consumer = StreamConsumer(
            client,
            streams=[settings.submitted_stream],
            group=settings.scheduler_group,
            consumer=settings.consumer_name,
            model=TaskMessage,
            handler=self.handle_submission,
            dead_letter_stream=settings.dead_letter_stream,
            # Handler failures are outages (PostgreSQL, Redis): retry until they end.
            options=ConsumerOptions(
                concurrency=settings.consumer_concurrency,
                claim_idle_ms=settings.claim_idle_ms,
                max_deliveries=None,
            ),
        )
        # The handlers of one event-loop tick share their round trips (see coalescing).
        self._accepts: Coalescer[db.Accept, bool] = Coalescer(
            functools.partial(db.accept_tasks, pool)
        )
        self._positions: Coalescer[tuple[int, QueuePosition], None] = Coalescer(
            functools.partial(db.record_queue_positions, pool)
        )
        self._stopping = asyncio.Event()
        self._unrecorded: list[QueuePosition] = []
        """Released from the delayed set while PostgreSQL was down: recorded next tick."""

    # -- running -------------------------------------------------------------------------

    async def run(self, *, drain: bool = False) -> None:
        """Run every loop until ``stop()``; with ``drain``, until no work is left."""
        # The runners' group exists before any runner does, so an autoscaler reading its
        # lag (KEDA) can scale the runners up from zero.
        for stream in (self._settings.priority_stream, self._settings.ready_stream):
            await ensure_group(self._client, stream, self._settings.runners_group)
        if drain:
            await self._drain()
            return
        settings = self._settings
        async with asyncio.TaskGroup() as group:
            group.create_task(self._consumer.run(), name="consume")
            group.create_task(
                self._every("release", settings.release_interval_seconds, self.release_due)
            )
            group.create_task(
                self._every("sweep", settings.sweep_interval_seconds, self.sweep_pending)
            )
            group.create_task(
                self._every("metrics", settings.metrics_interval_seconds, self.update_metrics)
            )

    def stop(self) -> None:
        self._stopping.set()
        self._consumer.stop()

    async def _drain(self) -> None:
        while True:
            await self._consumer.run(drain=True)
            if await self.release_due() + await self.sweep_pending() == 0:
                break
        await self.update_metrics()

    async def _every(
        self, name: str, interval: float, step: Callable[[], Awaitable[object]]
    ) -> None:
        while not self._stopping.is_set():
            try:
                await step()
            except _TRANSIENT_ERRORS as exc:
                log.warning("scheduler_loop_failed", loop=name, error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)

    async def readiness(self) -> dict[str, bool]:
        try:
            with translated_db_errors():
                await self._pool.fetchval("SELECT 1")
            database = True
        except DependencyUnavailable:
            database = False
        return {"redis": await is_redis_ready(self._client), "postgres": database}

    # -- accept and retry ----------------------------------------------------------------

    async def handle_submission(self, message: TaskMessage, delivery: Delivery) -> list[Reply]:
        with self._task_span("scheduler.accept", message):
            now = self._clock()
            placement = place_task(message, now=now, policy=self._policy, rng=self._rng)
            forwarded = message.model_copy(update={"trace_context": current_trace_context()})
            if isinstance(placement, GiveUp):
                return [self._give_up(forwarded, placement)]
            status = TaskStatus.DELAYED if isinstance(placement, Delay) else TaskStatus.QUEUED
            not_before = (
                placement.release_at if isinstance(placement, Delay) else message.not_before
            )
            if await self._accepts(db.Accept(message.task_id, message.attempt, status, not_before)):
                await self._place(forwarded, placement)
            elif delivery.deliveries > 1 and await self._finish_interrupted_accept(forwarded):
                log.warning("task_accept_resumed")
            else:
                log.info("task_dropped", reason="duplicate_stale_or_cancelled")
            return []

    async def _place(self, message: TaskMessage, placement: Enqueue | Delay) -> None:
        if isinstance(placement, Delay):
            delayed = message.model_copy(update={"not_before": placement.release_at})
            await self._queues.schedule_delayed(placement.target, delayed, placement.release_at)
            log.info("task_delayed", not_before=placement.release_at.isoformat())
        else:
            await self._enqueue(placement.target, message)

    async def _enqueue(self, target: QueueTarget, message: TaskMessage) -> None:
        position = await self._queues.enqueue_ready(target, message)
        await self._positions((message.attempt, position))
        # Debug: one line per task per service would be most of the log at full load.
        log.debug("task_queued", queue_stream=position.stream, queue_seq=position.seq)

    async def _finish_interrupted_accept(self, message: TaskMessage) -> bool:
        """A redelivered message whose accept UPDATE committed but whose enqueue did not
        happen (the scheduler died in between) is enqueued now instead of dropped."""
        row = await db.fetch_acceptance(self._pool, message.task_id)
        if row is None or row.attempts != message.attempt:
            return False
        target = queue_target(message.priority, threshold=self._policy.priority_threshold)
        if row.status is TaskStatus.QUEUED and row.queue_seq is None:
            await self._enqueue(target, message)
            return True
        if row.status is TaskStatus.DELAYED and not await self._queues.is_scheduled(
            message.task_id
        ):
            release_at = row.not_before or self._clock()
            await self._place(message, Delay(target=target, release_at=release_at))
            return True
        return False

    def _give_up(self, message: TaskMessage, placement: GiveUp) -> Reply:
        """The final failure, published with the ack of the message that ran out."""
        event = TaskEvent(
            task_id=message.task_id,
            kind="failed",
            attempt=message.attempt - 1,
            at=self._clock(),
            error_code=placement.error_code,
            error_message=placement.error_message,
            trace_context=message.trace_context,
        )
        log.warning("task_given_up", error_code=placement.error_code)
        return Reply(self._settings.events_stream, event)

    # -- release, sweep, metrics ---------------------------------------------------------

    async def release_due(self) -> int:
        """Move due delayed tasks to their ready stream, then mark their rows queued."""
        released = 0
        while True:
            batch = await self._queues.release_due(self._clock(), self._settings.release_batch_size)
            self._unrecorded.extend(batch)
            released += len(batch)
            if self._unrecorded:
                await db.mark_released(self._pool, self._unrecorded)
                self._unrecorded = []
            if len(batch) < self._settings.release_batch_size:
                break
        if released:
            log.info("delayed_tasks_released", count=released)
        return released

    async def sweep_pending(self) -> int:
        """Republish rows stuck in ``pending`` (their publish after INSERT was lost)."""
        now = self._clock()
        older_than = now - timedelta(seconds=self._settings.sweep_pending_after_seconds)
        messages = await db.claim_stale_pending(
            self._pool, older_than=older_than, now=now, limit=self._settings.sweep_batch_size
        )
        for message in messages:
            with self._task_span("scheduler.sweep", message):
                traced = message.model_copy(update={"trace_context": current_trace_context()})
                await publish(self._client, self._settings.submitted_stream, traced)
                log.warning("pending_task_republished")
        return len(messages)

    async def update_metrics(self) -> QueueSnapshot:
        settings = self._settings
        client = self._client
        now = self._clock()
        ready_streams = [settings.priority_stream, settings.ready_stream]
        streams = {
            settings.submitted_stream: await read_stream_stats(
                client, settings.submitted_stream, settings.scheduler_group
            )
        }
        for stream in ready_streams:
            streams[stream] = await read_stream_stats(client, stream, settings.runners_group)
        ecosystems = {e.value for e in Ecosystem} | set(settings.ecosystem_concurrency)
        ecosystems.discard(DEFAULT_CAP_KEY)
        snapshot = QueueSnapshot(
            streams=streams,
            delayed=int(await client.zcard(settings.delayed_zset)),
            dead_letter=int(await client.xlen(settings.dead_letter_stream)),
            slots_in_use=await read_slots_in_use(
                client, settings.slots_key_prefix, sorted(ecosystems), now
            ),
        )
        self._metrics.observe(
            snapshot,
            ready_streams=ready_streams,
            caps=settings.ecosystem_concurrency,
            max_replicas=settings.runner_max_replicas,
            now=now,
        )
        return snapshot

    def _task_span(
        self, name: str, message: TaskMessage
    ) -> contextlib.AbstractContextManager[None]:
        return consumer_span(
            self._tracer,
            name,
            message.trace_context,
            task_id=message.task_id,
            attempt=message.attempt,
            purl=message.purl,
        )
