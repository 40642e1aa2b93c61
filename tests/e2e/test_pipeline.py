"""HTTP in, report out: all services as processes, real Redis, PostgreSQL, S3, Docker."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiodocker
import aiohttp
import asyncpg
import pytest

from packguard.common.purl import parse_purl
from packguard.common.storage import ReportStore, report_key
from tests.e2e.processes import Pipeline
from tests.fixtures.packages import npm_tarball, pypi_sdist
from tests.fixtures.registry import FixtureRegistry

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def _submit(session: aiohttp.ClientSession, url: str, key: str, purl: str) -> dict[str, Any]:
    async with session.post(
        f"{url}/api/v1/analyze/", json={"purl": purl}, headers={"X-API-Key": key}
    ) as response:
        body = await response.json()
        assert response.status == 202, body
        data: dict[str, Any] = body["data"]
        return data


async def _wait_final(
    session: aiohttp.ClientSession, url: str, key: str, task_id: str, timeout: float = 120
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with session.get(
            f"{url}/api/v1/task/{task_id}/", headers={"X-API-Key": key}
        ) as response:
            data: dict[str, Any] = (await response.json())["data"]
        if data["status"] in ("completed", "failed", "cancelled"):
            return data
        await asyncio.sleep(0.2)
    raise TimeoutError(f"task {task_id} still {data['status']}")


async def test_pypi_and_npm_purls_come_back_as_stored_reports(
    pipeline: Pipeline,
    api_key: str,
    fixture_registry: FixtureRegistry,
    db_pool: asyncpg.Pool,
    report_store: ReportStore,
) -> None:
    fixture_registry.add_pypi("demo-pkg", pypi_sdist("demo-pkg", "1.0.0"))
    fixture_registry.add_npm(
        "@demo/tool",
        "2.0.0",
        npm_tarball("@demo/tool", "2.0.0", scripts={"postinstall": "node setup.js"}),
    )
    await pipeline.start(runners=1)
    purls = ["pkg:pypi/demo-pkg@1.0.0", "pkg:npm/%40demo/tool@2.0.0"]
    async with aiohttp.ClientSession() as session:
        accepted = [await _submit(session, pipeline.gateway_url, api_key, p) for p in purls]
        finals = [
            await _wait_final(session, pipeline.gateway_url, api_key, a["task_id"])
            for a in accepted
        ]
        assert [f["status"] for f in finals] == ["completed", "completed"], pipeline.logs()
        async with session.get(
            f"{pipeline.gateway_url}/api/v1/task/{accepted[1]['task_id']}/report/",
            headers={"X-API-Key": api_key},
        ) as response:
            assert response.status == 200
            served = await response.json()
    npm_report = served["data"]
    assert npm_report["package"]["name"] == "@demo/tool"
    for purl, task in zip(purls, accepted, strict=True):
        stored = json.loads(await report_store.get(report_key(parse_purl(purl), task["task_id"])))
        assert stored["package"]["name"] == parse_purl(purl).name
        row = await db_pool.fetchrow(
            "SELECT t.status, r.verdict_label, r.report_key FROM tasks t"
            " JOIN results r ON r.task_id = t.id WHERE t.id = $1",
            task["task_id"],
        )
        assert row is not None and row["status"] == "completed"
    findings = await db_pool.fetch(
        "SELECT rule_id FROM findings WHERE task_id = $1", accepted[1]["task_id"]
    )
    assert "install-hook-npm-script" in {f["rule_id"] for f in findings}


async def test_runner_killed_mid_analysis_task_completes_once_on_another(
    pipeline: Pipeline,
    api_key: str,
    fixture_registry: FixtureRegistry,
    db_pool: asyncpg.Pool,
    docker_host: str,
) -> None:
    # Enough files that the analysis is still running when the runner is killed.
    many = {f"pkg/data/file_{i}.py": f"VALUE = {i}\n" for i in range(8000)}
    fixture_registry.add_pypi("big-pkg", pypi_sdist("big-pkg", "1.0.0", many))
    await pipeline.start(runners=1)
    doomed = pipeline.get("runner-0")
    async with aiohttp.ClientSession() as session, aiodocker.Docker(url=docker_host) as docker:
        task = await _submit(session, pipeline.gateway_url, api_key, "pkg:pypi/big-pkg@1.0.0")
        await _wait_for_container(docker, task["task_id"])
        doomed.kill()
        survivor = await pipeline.add_runner("runner-1")
        final = await _wait_final(session, pipeline.gateway_url, api_key, task["task_id"])
        assert final["status"] == "completed", pipeline.logs()
        async with session.get(survivor.health_url.replace("/health/", "/metrics")) as response:
            metrics = await response.text()
    assert 'packguard_runner_tasks_total{outcome="completed"} 1.0' in metrics
    rows = await db_pool.fetchval(
        "SELECT count(*) FROM results WHERE task_id = $1", task["task_id"]
    )
    assert rows == 1


async def _wait_for_container(docker: aiodocker.Docker, task_id: str, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    label = f"packguard.task_id={task_id}"
    while asyncio.get_running_loop().time() < deadline:
        if await docker.containers.list(filters={"label": [label]}):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the analysis container never started")
