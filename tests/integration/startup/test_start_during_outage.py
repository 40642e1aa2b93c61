"""Every service starts while a dependency is down and gets ready by itself once it is back.

Each test runs its own Redis, PostgreSQL and S3 (``packguard.devstack``) so it can stop
one of them, starts the four services as processes (a no-op runner: no container engine
needed), checks that they run and report not ready, that the gateway answers 503 in its
envelope with Retry-After (never a 500), then starts the dependency again on the same
port and data and checks that every service gets ready without a restart and that a
task submitted then completes.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import pytest
import pytest_asyncio
import redis.asyncio as redis

from packguard.common import keys
from packguard.common.messages import TaskEvent, decode_message
from packguard.common.settings import StorageSettings
from packguard.common.storage import open_report_store
from packguard.common.uploads import EXPIRY_RULE_ID
from packguard.devstack import (
    RunningStack,
    connection_env,
    start_server,
    stop_server,
)
from tests.e2e.processes import Pipeline, ServiceProcess, create_api_key

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEADLINE_SECONDS = 60.0
"""Polls give up (and fail the test) after this; a healthy run needs a few seconds."""
RUNNER = "runner-0"
"""The name ``Pipeline.start`` gives its one runner."""
WORKERS = ("scheduler", RUNNER, "reporter")
PURL = "pkg:npm/left-pad@1.3.0"


@pytest_asyncio.fixture(loop_scope="session")
async def pipeline(outage_stack: RunningStack, tmp_path: Path) -> AsyncIterator[Pipeline]:
    env = {
        **connection_env(outage_stack),
        "ANALYSIS_BACKEND": "noop",
        "CLAIM_IDLE_MS": "3000",
        "SWEEP_PENDING_AFTER_SECONDS": "5",
    }
    started = Pipeline(base_env=env, log_dir=tmp_path)
    try:
        yield started
    finally:
        await started.stop()
    for service in started.services:
        assert service.process is not None
        assert service.process.returncode == 0, f"{service.name}: {service.log_tail()}"


async def _eventually(check: Callable[[], Awaitable[bool]], what: str, pipeline: Pipeline) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never {what}\n{pipeline.logs()}")
        await asyncio.sleep(0.2)


def _ready_url(service: ServiceProcess) -> str:
    return service.health_url.replace("/health/", "/ready/")


async def _get(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.get(url, **kwargs) as response:
        return response.status, await response.json()


async def _readiness(http: aiohttp.ClientSession, service: ServiceProcess) -> tuple[int, Any]:
    return await _get(http, _ready_url(service))


async def _is_ready(http: aiohttp.ClientSession, service: ServiceProcess) -> bool:
    status, _ = await _readiness(http, service)
    return status == 200


async def _all_ready(http: aiohttp.ClientSession, pipeline: Pipeline) -> bool:
    return all([await _is_ready(http, service) for service in pipeline.services])


async def _assert_running_not_ready(
    http: aiohttp.ClientSession, service: ServiceProcess, dependency: str
) -> None:
    """Alive (/health/ 200) and not ready, naming the missing dependency (a dependency a
    service does not connect at start appears once the others have connected)."""
    assert service.process is not None and service.process.returncode is None, service.name
    status, _ = await _get(http, service.health_url)
    assert status == 200, service.name
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        status, body = await _readiness(http, service)
        assert status == 503, (service.name, body)
        assert body["ready"] is False
        if dependency in body["checks"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert body["checks"][dependency] is False, (service.name, body)


def _warnings(service: ServiceProcess, dependency: str) -> list[dict[str, Any]]:
    """The service's ``dependency_unavailable`` and ``dependency_connected`` events."""
    events = []
    for line in service.log_path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("dependency") == dependency and entry["event"].startswith("dependency_"):
            events.append(entry)
    return events


def _assert_one_warning_then_connected(service: ServiceProcess, dependency: str) -> int:
    """Connected in the end, with one warning however many attempts it took (none when
    the first attempt outlasted the outage: each client also retries a little itself)."""
    events = _warnings(service, dependency)
    names = [entry["event"] for entry in events]
    connected = events[-1]
    assert names[-1] == "dependency_connected", (service.name, events)
    if connected["attempts"] == 1:
        assert names == ["dependency_connected"], (service.name, events)
    else:
        assert names == ["dependency_unavailable", "dependency_connected"], (service.name, events)
        assert events[0]["level"] == "warning"
    attempts: int = connected["attempts"]
    return attempts


async def _submit(http: aiohttp.ClientSession, pipeline: Pipeline, key: str) -> str:
    async with http.post(
        f"{pipeline.gateway_url}/api/v1/analyze/", json={"purl": PURL}, headers={"X-API-Key": key}
    ) as response:
        body = await response.json()
        assert response.status == 202, body
        task_id: str = body["data"]["task_id"]
        return task_id


async def _task(http: aiohttp.ClientSession, pipeline: Pipeline, key: str, task_id: str) -> Any:
    status, body = await _get(
        http, f"{pipeline.gateway_url}/api/v1/task/{task_id}/", headers={"X-API-Key": key}
    )
    assert status == 200, body
    return body["data"]


async def _completes(
    http: aiohttp.ClientSession, pipeline: Pipeline, key: str, task_id: str
) -> None:
    async def completed() -> bool:
        task = await _task(http, pipeline, key, task_id)
        assert task["status"] != "failed", task
        return bool(task["status"] == "completed")

    await _eventually(completed, f"completed task {task_id}", pipeline)


async def _assert_503_with_retry_after(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> None:
    async with http.request(method, url, **kwargs) as response:
        body = await response.json()
        assert response.status == 503, (method, url, body)
        assert body["success"] is False
        assert body["error"]["code"] == "dependency_unavailable"
        assert int(response.headers["Retry-After"]) > 0


async def _new_key(outage_stack: RunningStack) -> str:
    database_url = connection_env(outage_stack)["DATABASE_URL"]
    return await asyncio.to_thread(create_api_key, database_url, "outage", rate_limit=10_000)


async def test_postgres_down_at_start_every_service_runs_then_gets_ready_by_itself(
    outage_stack: RunningStack, pipeline: Pipeline
) -> None:
    await stop_server("postgres", outage_stack.state_dir)
    await pipeline.start(runners=1, ready=False)  # returns once every /health/ answers
    gateway = pipeline.get("gateway")
    base = pipeline.gateway_url
    some_key = f"pgk_{uuid4().hex}_not-checked-while-the-database-is-down"

    async with aiohttp.ClientSession() as http:
        for name in ("gateway", "scheduler", "reporter"):
            await _assert_running_not_ready(http, pipeline.get(name), "postgres")
        assert await _is_ready(http, pipeline.get(RUNNER))  # it needs no PostgreSQL
        for method, path in (
            ("POST", "/api/v1/analyze/"),
            ("GET", f"/api/v1/task/{uuid4()}/"),
            ("GET", "/api/v1/reports/"),
            ("GET", "/api/v1/queue/status/"),
        ):
            body = {"json": {"purl": PURL}} if method == "POST" else {}
            await _assert_503_with_retry_after(
                http, method, f"{base}{path}", headers={"X-API-Key": some_key}, **body
            )
        status, _ = await _get(http, f"{base}/api/v1/openapi.json")
        assert status == 200  # what needs no database is still served

        await start_server("postgres", outage_stack.state_dir)
        await _eventually(lambda: _all_ready(http, pipeline), "every service ready", pipeline)
        key = await _new_key(outage_stack)
        task_id = await _submit(http, pipeline, key)
        await _completes(http, pipeline, key, task_id)

        # Down again once connected: 503 with Retry-After, live, back without a restart.
        await stop_server("postgres", outage_stack.state_dir)
        await _assert_503_with_retry_after(
            http, "GET", f"{base}/api/v1/task/{task_id}/", headers={"X-API-Key": key}
        )
        await _assert_running_not_ready(http, gateway, "postgres")
        await start_server("postgres", outage_stack.state_dir)
        await _eventually(lambda: _all_ready(http, pipeline), "ready again", pipeline)
        assert (await _task(http, pipeline, key, task_id))["status"] == "completed"

    for name in ("gateway", "scheduler", "reporter"):
        # A refused connection fails at once: several attempts, still one warning.
        assert _assert_one_warning_then_connected(pipeline.get(name), "postgres") > 1


async def _has_completed_event(client: redis.Redis, task_id: str) -> bool:
    entries: Any = await client.xrange(keys.EVENTS_STREAM)
    events = [decode_message(TaskEvent, fields) for _, fields in entries]
    return any(str(e.task_id) == task_id and e.kind == "completed" for e in events)


async def _upload_expiry_is_set(outage_stack: RunningStack) -> bool:
    env = connection_env(outage_stack)
    settings = StorageSettings(
        s3_endpoint_url=env["S3_ENDPOINT_URL"],
        s3_bucket=env["S3_BUCKET"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    async with open_report_store(settings) as store:
        client = store._client
        try:
            answer = await client.get_bucket_lifecycle_configuration(Bucket=store._bucket)
        except client.exceptions.ClientError:
            return False
    return EXPIRY_RULE_ID in {rule["ID"] for rule in answer["Rules"]}


async def test_s3_down_at_start_the_reporter_waits_then_applies_the_events(
    outage_stack: RunningStack, pipeline: Pipeline
) -> None:
    await stop_server("s3", outage_stack.state_dir)
    await pipeline.start(runners=1, ready=False)
    reporter = pipeline.get("reporter")
    client = redis.Redis.from_url(connection_env(outage_stack)["REDIS_URL"])

    async with aiohttp.ClientSession() as http:
        await _assert_running_not_ready(http, reporter, "s3")
        for name in ("gateway", "scheduler", RUNNER):  # none of them needs S3 to start
            ready = functools.partial(_is_ready, http, pipeline.get(name))
            await _eventually(ready, f"{name} ready", pipeline)
        key = await _new_key(outage_stack)
        task_id = await _submit(http, pipeline, key)

        # The runner finished it; its events wait in the stream, none applied yet.
        await _eventually(
            lambda: _has_completed_event(client, task_id), "a completed event", pipeline
        )
        assert (await _task(http, pipeline, key, task_id))["status"] == "queued"
        await _assert_running_not_ready(http, reporter, "s3")

        await start_server("s3", outage_stack.state_dir)
        await _eventually(lambda: _all_ready(http, pipeline), "every service ready", pipeline)
        await _completes(http, pipeline, key, task_id)
        status, body = await _get(
            http,
            f"{pipeline.gateway_url}/api/v1/task/{task_id}/report/",
            headers={"X-API-Key": key},
        )
        assert status == 200, body
        assert body["data"]["package"]["name"] == "left-pad"
        # The gateway's upload retention, retried in the background, is applied too.
        await _eventually(
            functools.partial(_upload_expiry_is_set, outage_stack), "upload expiry", pipeline
        )
    await client.aclose()

    _assert_one_warning_then_connected(reporter, "s3")


async def test_redis_down_at_start_every_service_runs_then_gets_ready_by_itself(
    outage_stack: RunningStack, pipeline: Pipeline
) -> None:
    await stop_server("redis", outage_stack.state_dir)
    await pipeline.start(runners=1, ready=False)

    async with aiohttp.ClientSession() as http:
        for service in pipeline.services:
            await _assert_running_not_ready(http, service, "redis")
        await start_server("redis", outage_stack.state_dir)
        await _eventually(lambda: _all_ready(http, pipeline), "every service ready", pipeline)
        key = await _new_key(outage_stack)
        task_id = await _submit(http, pipeline, key)
        await _completes(http, pipeline, key, task_id)

    for name in WORKERS:
        _assert_one_warning_then_connected(pipeline.get(name), "redis")


def _logged(service: ServiceProcess, event: str) -> bool:
    return f'"event": "{event}"' in service.log_path.read_text(errors="replace")


async def test_a_long_redis_outage_after_start_ends_no_service(
    outage_stack: RunningStack, pipeline: Pipeline
) -> None:
    await pipeline.start(runners=1)
    async with aiohttp.ClientSession() as http:
        await _eventually(lambda: _all_ready(http, pipeline), "every service ready", pipeline)
        key = await _new_key(outage_stack)
        await _completes(http, pipeline, key, await _submit(http, pipeline, key))

        await stop_server("redis", outage_stack.state_dir)
        # Longer than the Redis client's own retries: each consumer's read loop meets it.
        for name in WORKERS:
            service = pipeline.get(name)

            async def met_it(service: ServiceProcess = service) -> bool:
                return _logged(service, "stream_read_failed")

            await _eventually(met_it, f"{name} meeting the outage", pipeline)
        await start_server("redis", outage_stack.state_dir)

        await _eventually(lambda: _all_ready(http, pipeline), "every service ready", pipeline)
        await _completes(http, pipeline, key, await _submit(http, pipeline, key))
    for service in pipeline.services:
        assert service.process is not None and service.process.returncode is None, service.name
