"""Route handlers: read the input, call the I/O modules, render a model (fetch, decide, act)."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import structlog
from aiohttp import web

from packguard.common.api import AnalyzeRequest, QueueStatus, ReportPage, ReportQuery
from packguard.common.errors import Conflict, DependencyUnavailable, NotFound
from packguard.common.messages import TaskStatus, utc_now
from packguard.gateway import queue, tasks
from packguard.gateway.bodies import idempotency_key_of, read_json_body, read_query, task_id_of
from packguard.gateway.envelope import success_response
from packguard.gateway.errors import ReportNotReady
from packguard.gateway.redis_state import set_cancel_flag
from packguard.gateway.state import (
    API_KEY,
    DOCS_HTML,
    LOOKUPS,
    METRICS,
    OPENAPI,
    POOL,
    REDIS,
    REPORT_STORE,
    SETTINGS,
    SUBMITTER,
)
from packguard.gateway.submission import owner_of
from packguard.gateway.tasks import TaskRecord
from packguard.gateway.views import task_accepted, task_summary, task_view

log = structlog.get_logger(__name__)


def base_url(request: web.Request) -> str:
    configured = request.app[SETTINGS].public_base_url
    return configured.rstrip("/") if configured else f"{request.scheme}://{request.host}"


async def _visible_task(request: web.Request) -> TaskRecord:
    """The task in the path if the caller may see it; another key's task is not found."""
    record = await request.app[LOOKUPS].tasks.find(
        task_id_of(request), owner=owner_of(request[API_KEY])
    )
    if record is None:
        raise NotFound("task not found")
    return record


async def analyze(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    body = await read_json_body(request, AnalyzeRequest, max_bytes=settings.max_body_bytes)
    idempotency_key = idempotency_key_of(request)
    submission = await request.app[SUBMITTER].submit(body, request[API_KEY], idempotency_key)
    outcome = "replayed" if submission.is_replay else submission.outcome
    request.app[METRICS].tasks_submitted.labels(outcome).inc()
    record = submission.record
    # Info only for a new task (its lifecycle starts here); answers from an existing task
    # are counted in the metric above and logged as requests.
    (log.info if outcome == "created" else log.debug)(
        "task_submitted",
        task_id=str(record.id),
        purl=record.purl,
        ecosystem=record.package.ecosystem.value,
        outcome=outcome,
    )
    accepted = task_accepted(record, base_url(request), submission.outcome)
    return success_response(request, accepted, status=submission.http_status)


async def _queue_position(request: web.Request, record: TaskRecord) -> int | None:
    if record.status is not TaskStatus.QUEUED or not record.queue_stream or not record.queue_seq:
        return None
    settings = request.app[SETTINGS]
    ahead = [settings.priority_stream] if record.queue_stream == settings.ready_stream else []
    try:
        return await queue.live_position(
            request.app[REDIS],
            stream=record.queue_stream,
            counter=f"{record.queue_stream}{settings.sequence_suffix}",
            seq=record.queue_seq,
            group=settings.runners_group,
            ahead_streams=ahead,
        )
    except DependencyUnavailable as exc:
        log.warning("queue_position_unavailable", error=exc.message)
        return None


async def get_task(request: web.Request) -> web.Response:
    record = await _visible_task(request)
    position = await _queue_position(request, record)
    return success_response(request, task_view(record, base_url(request), queue_position=position))


async def get_report(request: web.Request) -> web.Response:
    record = await _visible_task(request)
    if record.status is not TaskStatus.COMPLETED:
        raise ReportNotReady(f"the task is {record.status.value}; the report exists once completed")
    body = await request.app[REPORT_STORE].get(record.report_key)
    try:
        report: dict[str, Any] = json.loads(body)
    except ValueError as exc:
        raise DependencyUnavailable("the stored report is not valid JSON") from exc
    return success_response(request, report)


async def cancel_task(request: web.Request) -> web.Response:
    record = await _visible_task(request)
    if record.status.is_final:
        raise Conflict(f"the task is already {record.status.value}")
    settings = request.app[SETTINGS]
    # The flag first: a runner that is starting this task must find it.
    await set_cancel_flag(
        request.app[REDIS],
        f"{settings.cancel_key_prefix}{record.id}",
        ttl_seconds=settings.cancel_ttl_seconds,
    )
    cancelled = await tasks.cancel_task(
        request.app[POOL], record.id, owner=owner_of(request[API_KEY])
    )
    if cancelled is None:
        latest = await _visible_task(request)
        raise Conflict(f"the task is already {latest.status.value}")
    log.info("task_cancelled", task_id=str(record.id), previous_status=record.status.value)
    return success_response(request, task_view(cancelled, base_url(request), queue_position=None))


async def list_reports(request: web.Request) -> web.Response:
    query = read_query(request, ReportQuery)
    records, total = await tasks.list_tasks(
        request.app[POOL], query, owner=owner_of(request[API_KEY])
    )
    base = base_url(request)
    page = ReportPage(
        items=[task_summary(record, base) for record in records],
        page=query.page,
        page_size=query.page_size,
        total=total,
        pages=math.ceil(total / query.page_size),
    )
    return success_response(request, page)


async def queue_status(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    client = request.app[REDIS]
    now_ms = int(time.time() * 1000)
    watched = [
        (settings.submitted_stream, settings.schedulers_group),
        (settings.priority_stream, settings.runners_group),
        (settings.ready_stream, settings.runners_group),
    ]
    status = QueueStatus(
        streams=[await queue.stream_status(client, s, g, now_ms) for s, g in watched],
        delayed=await queue.delayed_count(client, settings.delayed_zset),
        running=await tasks.count_running(request.app[POOL]),
        at=utc_now(),
    )
    return success_response(request, status)


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


async def docs_page(request: web.Request) -> web.Response:
    return web.Response(text=request.app[DOCS_HTML], content_type="text/html")


HANDLERS = {
    "analyze": analyze,
    "get_task": get_task,
    "get_report": get_report,
    "cancel_task": cancel_task,
    "list_reports": list_reports,
    "queue_status": queue_status,
    "openapi_document": openapi_document,
    "docs_page": docs_page,
}
