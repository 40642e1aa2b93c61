"""The runner: claim a task, fetch its artifact, analyse it in the sandbox, report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import redis.asyncio as redis
import structlog
from opentelemetry import trace

from packguard.common import keys
from packguard.common.errors import PackguardError
from packguard.common.messages import (
    DeadLetter,
    MalformedMessage,
    TaskEvent,
    TaskMessage,
    decode_message,
)
from packguard.common.purl import Ecosystem, PackageRef, parse_purl
from packguard.common.streams import ConsumerOptions, Delivery, StreamConsumer, publish
from packguard.common.tracing import context_from, current_trace_context
from packguard.runner.analysis import AnalysisCancelled, TaskWorkspace, run_analysis
from packguard.runner.download import download_artifact
from packguard.runner.metrics import RunnerMetrics
from packguard.runner.registries import RegistryAdapter
from packguard.runner.sandbox import DockerSandbox, SandboxLimits
from packguard.runner.settings import RunnerSettings
from packguard.runner.slots import EcosystemSlots

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("packguard.runner")


@dataclass(frozen=True, slots=True)
class RunnerDependencies:
    redis: redis.Redis
    http: aiohttp.ClientSession
    sandbox: DockerSandbox
    registries: dict[Ecosystem, RegistryAdapter]
    metrics: RunnerMetrics


class Runner:
    def __init__(self, settings: RunnerSettings, deps: RunnerDependencies, consumer: str) -> None:
        self._settings = settings
        self._deps = deps
        self._slots = EcosystemSlots(
            deps.redis, settings.ecosystem_concurrency, lease_seconds=settings.slot_lease_seconds
        )
        self._limits = SandboxLimits(
            memory_bytes=settings.sandbox_memory_bytes,
            nano_cpus=settings.sandbox_nano_cpus,
            pids_limit=settings.sandbox_pids_limit,
            scratch_bytes=settings.sandbox_scratch_bytes,
            nofile=settings.sandbox_nofile,
            nproc=settings.sandbox_nproc,
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

    async def handle(self, task: TaskMessage, delivery: Delivery) -> None:
        with (
            structlog.contextvars.bound_contextvars(
                task_id=str(task.task_id), purl=task.purl, attempt=task.attempt
            ),
            tracer.start_as_current_span(
                "runner.analyze", context=context_from(task.trace_context)
            ),
        ):
            if await self._is_cancelled(task):
                await self._emit(task, "cancelled")
                return
            try:
                package = parse_purl(task.purl)
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
        workspace = TaskWorkspace(Path(self._settings.work_dir) / f"{task.task_id}-{task.attempt}")
        await self._emit(task, "running", phase="fetch")
        try:
            workspace.create()
            registry = self._deps.registries[package.ecosystem]
            location = await registry.locate(self._deps.http, package)
            artifact = await download_artifact(
                self._deps.http,
                location,
                workspace.input_dir / location.filename,
                max_bytes=self._settings.max_artifact_bytes,
            )
            await self._emit(task, "phase", phase="analyze")
            report = await run_analysis(
                self._deps.sandbox,
                image=self._settings.analyzer_image,
                limits=self._limits,
                workspace=workspace,
                artifact=artifact,
                package=package,
                task_id=task.task_id,
                attempt=task.attempt,
                timeout_seconds=task.timeout_minutes * 60,
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
            await self._emit(task, "completed", report=report, sha256=artifact.sha256)
        finally:
            workspace.remove()

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
            await publish(self._deps.redis, self._settings.submitted_stream, retry)
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
        return bool(await self._deps.redis.exists(keys.CANCEL_KEY_PREFIX + str(task.task_id)))

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
        await publish(self._deps.redis, self._settings.events_stream, event)
