"""Submitting a package: idempotent replay, in-flight dedup, cache, or a new task.

A new task is a ``pending`` row first and a ``TaskMessage`` on the submitted stream
second; if the publish fails the row stays ``pending`` and the scheduler's sweeper
publishes it, so the 202 holds (docs/task-lifecycle.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from uuid import UUID

import asyncpg
import redis.asyncio as redis
import structlog

from packguard.common.api import AnalyzeRequest, SubmitOutcome
from packguard.common.errors import Conflict, DependencyUnavailable
from packguard.common.messages import TaskMessage, utc_now
from packguard.common.purl import PackageRef, parse_purl
from packguard.common.tracing import current_trace_context
from packguard.gateway import tasks
from packguard.gateway.apikeys import ApiKey
from packguard.gateway.metrics import GatewayMetrics
from packguard.gateway.queue import TaskPublisher
from packguard.gateway.redis_state import IdempotencyStore, IdempotentAnswer
from packguard.gateway.settings import GatewaySettings
from packguard.gateway.tasks import TaskRecord

log = structlog.get_logger(__name__)

_HTTP_STATUS: dict[SubmitOutcome, int] = {"created": 202, "deduplicated": 200, "cached": 200}


class SubmitOptions(Protocol):
    """How to run a submission: the options a JSON request and an upload form share."""

    @property
    def priority(self) -> int: ...
    @property
    def delay_seconds(self) -> int: ...
    @property
    def force(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Submission:
    record: TaskRecord
    outcome: SubmitOutcome
    is_replay: bool = False

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self.outcome]


@dataclass(frozen=True, slots=True)
class Submitter:
    settings: GatewaySettings
    pool: asyncpg.Pool
    redis_client: redis.Redis
    idempotency: IdempotencyStore
    metrics: GatewayMetrics
    publisher: TaskPublisher
    submissions: tasks.TaskSubmissions

    async def submit(
        self, request: AnalyzeRequest, key: ApiKey, idempotency_key: str | None
    ) -> Submission:
        return await self.submit_package(parse_purl(request.purl), request, key, idempotency_key)

    async def submit_package(
        self,
        package: PackageRef,
        request: SubmitOptions,
        key: ApiKey,
        idempotency_key: str | None,
    ) -> Submission:
        """Submit an already parsed package (uploads build theirs from the form)."""
        if idempotency_key is not None:
            replay = await self._replay(key, idempotency_key, package)
            if replay is not None:
                return replay
        submission = await self._answer(request, key, package, idempotency_key)
        if idempotency_key is not None:
            answer = IdempotentAnswer(
                task_id=submission.record.id, outcome=submission.outcome, purl=package.purl
            )
            await self.idempotency.remember(key.id, idempotency_key, answer)
        return submission

    async def _replay(
        self, key: ApiKey, idempotency_key: str, package: PackageRef
    ) -> Submission | None:
        """The original answer to this idempotency key, if it was used before."""
        answer = await self.idempotency.recall(key.id, idempotency_key)
        if answer is not None:
            _check_same_purl(answer.purl, package)
            record = await tasks.find_task(self.pool, answer.task_id, owner=owner_of(key))
            if record is not None:
                return Submission(record, answer.outcome, is_replay=True)
        record = await tasks.find_by_idempotency_key(self.pool, key.id, idempotency_key)
        if record is None:
            return None
        _check_same_purl(record.purl, package)
        return Submission(record, "created", is_replay=True)

    async def _answer(
        self,
        request: SubmitOptions,
        key: ApiKey,
        package: PackageRef,
        idempotency_key: str | None,
    ) -> Submission:
        new = self._new_task(request, key, package, idempotency_key)
        answered = await self.submissions.submit(new, force=request.force)
        if answered is None:  # lost a race to a concurrent submission
            return await self._answer_step_by_step(request, key, package, new)
        outcome, record = answered
        if outcome == "created":
            await self._publish(record, package)
            return Submission(record, "created")
        if outcome == "cached":
            return Submission(await self._made_own(key, record), "cached")
        return Submission(record, "deduplicated")

    async def _answer_step_by_step(
        self, request: SubmitOptions, key: ApiKey, package: PackageRef, new: tasks.NewTask
    ) -> Submission:
        """The one-statement answer's steps, one at a time, naming whichever conflict."""
        in_flight = await tasks.find_in_flight(self.pool, key.id, package.purl)
        if in_flight is not None:
            return Submission(in_flight, "deduplicated")
        if not request.force:
            cached = await self._cached(key, package)
            if cached is not None:
                return Submission(cached, "cached")
        try:
            record = await tasks.insert_task(self.pool, new)
        except tasks.DuplicateInFlight:
            in_flight = await tasks.find_in_flight(self.pool, key.id, package.purl)
            if in_flight is None:
                raise Conflict("the same package was submitted concurrently; retry") from None
            return Submission(in_flight, "deduplicated")
        except tasks.DuplicateIdempotencyKey:
            assert new.idempotency_key is not None
            replay = await self._replay(key, new.idempotency_key, package)
            if replay is None:
                raise Conflict("the idempotency key is in use; retry") from None
            return replay
        await self._publish(record, package)
        return Submission(record, "created")

    async def _cached(self, key: ApiKey, package: PackageRef) -> TaskRecord | None:
        """A completed task by the current analyzer version, made the caller's own."""
        found = await tasks.find_completed(
            self.pool, package.purl, self.settings.analyzer_version, prefer=key.id
        )
        return None if found is None else await self._made_own(key, found)

    async def _made_own(self, key: ApiKey, found: TaskRecord) -> TaskRecord:
        if found.api_key_id == key.id or key.is_admin:
            return found
        # Another key's task: give this key a completed task sharing the same report.
        return await tasks.copy_completed(self.pool, found, key.id)

    def _new_task(
        self,
        request: SubmitOptions,
        key: ApiKey,
        package: PackageRef,
        idempotency_key: str | None,
    ) -> tasks.NewTask:
        now = utc_now()
        not_before = (
            now + timedelta(seconds=request.delay_seconds) if request.delay_seconds else None
        )
        return tasks.NewTask(
            package=package,
            api_key_id=key.id,
            priority=request.priority,
            timeout_minutes=self.settings.timeout_minutes,
            created_at=now,
            not_before=not_before,
            idempotency_key=idempotency_key,
        )

    async def _publish(self, record: TaskRecord, package: PackageRef) -> None:
        message = TaskMessage(
            task_id=record.id,
            purl=record.purl,
            priority=record.priority,
            created_at=record.created_at,
            timeout_minutes=record.timeout_minutes,
            attempt=1,
            not_before=record.not_before,
            ecosystem=package.ecosystem.value,
            trace_context=current_trace_context(),
        )
        try:
            await self.publisher.publish(message)
        except DependencyUnavailable as exc:
            self.metrics.publish_failures.inc()
            log.warning("task_publish_failed", task_id=str(record.id), error=exc.message)


def _check_same_purl(original_purl: str, package: PackageRef) -> None:
    if original_purl != package.purl:
        raise Conflict(
            "this idempotency key was used for another package",
            fields={"X-Idempotency-Key": "reused with a different purl"},
        )


def owner_of(key: ApiKey) -> UUID | None:
    """The key whose tasks ``key`` may see; None: all of them (admin)."""
    return None if key.is_admin else key.id
