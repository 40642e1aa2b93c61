"""One chaos run: start everything, load it, break it on schedule, settle, audit, stop.

Everything the run starts is stopped on the way out, whatever happens: the services
(SIGTERM, then SIGKILL), the analysis containers whose mounts lie under the run's own
directory, the loopback registry, and Redis, PostgreSQL and S3 (purged). The machine's
shared Docker engine and its images stay, as for every devstack user.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiodocker

from bench.chaos.audit import Audit, Observed, audit_run
from bench.chaos.clients import Clients
from bench.chaos.evidence import gather_evidence, wait_final
from bench.chaos.faults import FaultInjector
from bench.chaos.fleet import Fleet
from bench.chaos.packages import stock_registry
from bench.chaos.plan import ChaosPlan, build_workload, real_packages
from bench.chaos.timeline import Timeline
from packguard.common.db import create_pool
from packguard.devstack import (
    connection_env,
    ensure_analyzer_image,
    ensure_base_image,
    ensure_docker_engine,
    start_stack,
    stop_stack,
)
from tests.e2e.processes import Pipeline, create_api_key, sandbox_env
from tests.fixtures.registry import FixtureRegistry, serve_on_loopback

REPO = Path(__file__).resolve().parents[2]
TASK_LABEL = "packguard.task_id"

# Faster reclaim, sweep and retry than production, so recovery fits in the run.
SERVICE_ENV = {
    "CLAIM_IDLE_MS": "3000",
    "SWEEP_PENDING_AFTER_SECONDS": "5",
    "SWEEP_INTERVAL_SECONDS": "1",
    "RETRY_BASE_SECONDS": "1",
    "RETRY_CAP_SECONDS": "4",
    "MAX_DELIVERIES": "10",
}
UNSERVED = "chaos:unserved"


def runner_env() -> dict[str, dict[str, str]]:
    """Two runner pools on shared streams, split by priority: no-op runners leave the
    priority stream (real analyses) alone, sandbox runners the ready stream (no-op work)."""
    return {
        "noop": {
            "ANALYSIS_BACKEND": "noop",
            "WORKER_CONCURRENCY": "8",
            "PRIORITY_STREAM": f"{UNSERVED}:priority",
        },
        "sandbox": {
            "ANALYSIS_BACKEND": "sandbox",
            "WORKER_CONCURRENCY": "2",
            "READY_STREAM": f"{UNSERVED}:ready",
        },
    }


@dataclass(slots=True)
class ChaosReport:
    plan: ChaosPlan
    audit: Audit = field(default_factory=Audit)
    events: list[tuple[float, str]] = field(default_factory=list)
    kills: dict[str, int] = field(default_factory=dict)
    crashes: dict[str, int] = field(default_factory=dict)
    client_retries: int = 0
    client_outcomes: dict[str, int] = field(default_factory=dict)
    """Every POST's answer: HTTP status or error kind → count."""
    not_final_at_deadline: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


async def run_chaos(plan: ChaosPlan, root: Path) -> ChaosReport:
    """Run ``plan`` with ``root`` as scratch (stack, logs, runner work dirs).

    Building the images (minutes on a fresh machine, instant after) is not bounded; the
    run itself is, by ``plan.run_limit_seconds``, and its teardown always runs.
    """
    report = ChaosReport(plan)
    began = time.monotonic()
    docker_host = await ensure_docker_engine()
    await ensure_base_image(docker_host, log_path=root / "base-image.log")
    image = await ensure_analyzer_image(
        docker_host, repo_root=REPO, log_path=root / "analyzer-image.log", state_dir=root
    )
    report.seconds["images"] = round(time.monotonic() - began, 1)
    async with contextlib.AsyncExitStack() as exits, asyncio.timeout(plan.run_limit_seconds):
        await _run(plan, report, exits, root=root, docker_host=docker_host, image=image)
    report.seconds["total"] = round(time.monotonic() - began, 1)
    return report


async def _run(
    plan: ChaosPlan,
    report: ChaosReport,
    exits: contextlib.AsyncExitStack,
    *,
    root: Path,
    docker_host: str,
    image: str,
) -> None:
    began = time.monotonic()
    rng = random.Random(plan.seed)
    work_dir = root / "work"
    stack = await start_stack(root / "stack", free_ports=True, with_docker=False)
    exits.push_async_callback(stop_stack, stack.state_dir, purge=True)
    registry = FixtureRegistry()
    stock_registry(registry, real_packages(plan.real_tasks))
    exits.push_async_callback((await serve_on_loopback(registry)).cleanup)
    exits.push_async_callback(remove_containers_under, docker_host, work_dir)
    env = {
        **connection_env(stack),
        **SERVICE_ENV,
        **sandbox_env(
            docker_host=docker_host,
            image=image,
            work_dir=work_dir,
            pypi_index_url=registry.pypi_index_url,
            npm_registry_url=registry.npm_registry_url,
        ),
    }
    pipeline = Pipeline(base_env=env, log_dir=root / "logs")
    pipeline.log_dir.mkdir(parents=True, exist_ok=True)
    exits.push_async_callback(pipeline.stop)
    await pipeline.start(runners=0)
    api_key = create_api_key(env["DATABASE_URL"], "chaos", rate_limit=100_000_000)

    loop = asyncio.get_running_loop()
    timeline = Timeline(start=loop.time())
    fleet = Fleet(pipeline, runner_env(), timeline)
    for kind, count in (("noop", plan.noop_runners), ("sandbox", plan.sandbox_runners)):
        for _ in range(count):
            await fleet.add_runner(kind)
    supervisor = asyncio.create_task(fleet.supervise(), name="supervise")
    exits.push_async_callback(_cancel, supervisor)

    clients = Clients(
        pipeline.gateway_url,
        api_key,
        concurrency=plan.client_concurrency,
        give_up_seconds=plan.client_give_up_seconds,
        rng=rng,
    )
    timeline.start = loop.time() + 0.5
    report.seconds["setup"] = round(time.monotonic() - began, 1)
    injector = FaultInjector(
        plan,
        fleet=fleet,
        stack_dir=stack.state_dir,
        progress=clients.progress,
        timeline=timeline,
        rng=rng,
    )
    faults = asyncio.create_task(injector.run(), name="faults")
    exits.push_async_callback(_cancel, faults)
    records = await clients.submit_all(build_workload(plan, rng), start=timeline.start)
    await faults
    report.seconds["load"] = round(timeline.now(), 1)

    pool = await create_pool(env["DATABASE_URL"], max_size=2)
    exits.push_async_callback(pool.close)
    task_ids = {task_id for record in records for task_id in record.task_ids}
    settle_began = time.monotonic()
    report.not_final_at_deadline = await wait_final(pool, task_ids, seconds=plan.settle_seconds)
    report.seconds["settle"] = round(time.monotonic() - settle_began, 1)
    if supervisor.done():
        supervisor.result()  # it only ends by failing: surface why
    evidence = await gather_evidence(pool, env["S3_ENDPOINT_URL"], env["S3_BUCKET"])
    report.audit = audit_run(
        [Observed(r.submission, frozenset(r.task_ids)) for r in records], evidence
    )
    report.events = timeline.events
    report.kills = dict(fleet.kills)
    report.crashes = dict(fleet.crashes)
    report.client_retries = sum(r.attempts for r in records) - len(records)
    report.client_outcomes = dict(sum((r.outcomes for r in records), Counter[str]()))


async def remove_containers_under(docker_host: str, work_dir: Path) -> int:
    """Force-remove analysis containers that mount anything under ``work_dir`` (a killed
    runner leaves its container behind); other users' containers are left alone."""
    removed = 0
    async with aiodocker.Docker(url=docker_host) as docker:
        listed = await docker.containers.list(all=True, filters={"label": [TASK_LABEL]})
        for container in listed:
            with contextlib.suppress(aiodocker.DockerError):
                mounts = (await container.show()).get("Mounts", [])
                if any(str(m.get("Source", "")).startswith(str(work_dir)) for m in mounts):
                    await container.delete(force=True)
                    removed += 1
    return removed


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
