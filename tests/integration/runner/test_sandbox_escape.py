"""Sandbox escape attempts, each an inert package (tests/fixtures/escape_samples.py) that the
real runner fetches from the loopback registry and analyses in the real analyzer image.

Every test checks the runner survived (its consumer drained, the task acked, the
container and the task's workspace gone) and how the task ended: ``completed`` with the
attempt in the report when the sandbox held it, or ``failed`` with its category. The
limits are tight so each attempt hits them quickly; they apply inside the container only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import aiodocker
import aiohttp
import pytest
import pytest_asyncio
import redis.asyncio as redis
from prometheus_client import CollectorRegistry

from packguard.common import keys
from packguard.common.messages import TaskEvent, TaskMessage, decode_message
from packguard.common.purl import PackageRef
from packguard.common.report import AnalysisReport, Finding, VerdictLabel
from packguard.common.storage import ReportStore
from packguard.common.streams import publish
from packguard.common.uploads import UploadStore
from packguard.runner.backends import AnalysisOutcome, PhaseHook, SandboxBackend
from packguard.runner.metrics import RunnerMetrics
from packguard.runner.registries import build_registries
from packguard.runner.sandbox import CancelCheck, DockerSandbox, SandboxLimits
from packguard.runner.service import Runner, RunnerDependencies
from packguard.runner.settings import RunnerSettings
from tests.fixtures import escape_samples
from tests.fixtures.escape_samples import EscapeSample
from tests.fixtures.registry import FixtureRegistry

pytestmark = pytest.mark.integration

LIMITS = SandboxLimits(
    memory_bytes=384 * 2**20,
    nano_cpus=1_000_000_000,
    pids_limit=48,
    scratch_bytes=32 * 2**20,
    nofile=(1024, 4096),
    # RLIMIT_NPROC counts every process of the sandbox uid on the host, other analyses
    # included: set high, so the container's own pids limit is what a fork bomb meets.
    nproc=(8192, 16384),
)
ANALYSIS_TIMEOUT_SECONDS = 120.0
EXHAUSTION = "dynamic-resource-exhaustion"


@dataclass
class ShortTimeouts:
    """The sandbox backend with a timeout in seconds: a task's timeout is whole minutes
    (at least one), too long for a suite that waits for one on purpose."""

    inner: SandboxBackend
    timeout_seconds: float = ANALYSIS_TIMEOUT_SECONDS

    async def analyze(
        self,
        task: TaskMessage,
        package: PackageRef,
        *,
        on_phase: PhaseHook,
        is_cancelled: CancelCheck,
    ) -> AnalysisOutcome:
        short = task.model_copy(update={"timeout_minutes": self.timeout_seconds / 60})
        return await self.inner.analyze(
            short, package, on_phase=on_phase, is_cancelled=is_cancelled
        )


@dataclass
class Harness:
    runner: Runner
    backend: ShortTimeouts
    redis: redis.Redis
    docker: aiodocker.Docker
    registry: FixtureRegistry
    work_dir: Path


@dataclass
class Attempt:
    events: list[TaskEvent]
    peak_workspace_bytes: int = 0
    peak_log_bytes: int | None = None
    """``None`` when the engine's log files are not on this machine."""
    seen_containers: set[str] = field(default_factory=set)

    @property
    def final(self) -> TaskEvent:
        return self.events[-1]

    @property
    def report(self) -> AnalysisReport:
        assert self.final.kind == "completed", self.final
        assert self.final.report is not None
        return self.final.report

    def finding(self, rule_id: str) -> Finding:
        found = {f.rule_id: f for f in self.report.findings}
        assert rule_id in found, sorted(found)
        return found[rule_id]

    def evidence(self, rule_id: str) -> list[str]:
        return [e.snippet or "" for e in self.finding(rule_id).evidence]


@pytest_asyncio.fixture(loop_scope="session")
async def harness(
    redis_client: redis.Redis,
    redis_url: str,
    fixture_registry: FixtureRegistry,
    docker_host: str,
    analyzer_image: str,
    report_store: ReportStore,
    tmp_path: Path,
) -> AsyncIterator[Harness]:
    work_dir = tmp_path / "work"
    settings = RunnerSettings(
        redis_url=redis_url,
        analyzer_image=analyzer_image,
        work_dir=str(work_dir),
        pypi_index_url=fixture_registry.pypi_index_url,
        claim_idle_ms=600_000,
        cancel_poll_seconds=0.2,
    )
    async with aiohttp.ClientSession() as http, aiodocker.Docker(url=docker_host) as docker:
        sandbox_backend = SandboxBackend(
            http=http,
            sandbox=DockerSandbox(docker, cancel_poll_seconds=0.2),
            registries=build_registries(pypi_index=settings.pypi_index_url, npm_registry=None),
            uploads=UploadStore.sharing(report_store),
            image=analyzer_image,
            limits=LIMITS,
            work_dir=work_dir,
            max_artifact_bytes=settings.max_artifact_bytes,
        )
        backend = ShortTimeouts(sandbox_backend)
        deps = RunnerDependencies(redis_client, backend, RunnerMetrics.create(CollectorRegistry()))
        runner = Runner(settings, deps, "escape-runner")
        yield Harness(runner, backend, redis_client, docker, fixture_registry, work_dir)


async def attempt(harness: Harness, sample: EscapeSample, *, watch: bool = False) -> Attempt:
    """Publish ``sample``'s task, let the runner drain it, check the runner survived."""
    harness.registry.add_pypi(sample.name, sample.artifact)
    task = TaskMessage(task_id=uuid4(), purl=sample.purl, created_at=datetime.now(UTC))
    await publish(harness.redis, keys.READY_STREAM, task)
    draining = asyncio.ensure_future(harness.runner.consumer.run(drain=True))
    result = Attempt([])
    if watch:
        await _watch_host_side(harness, task.task_id, draining, result)
    await draining  # the consumer returns normally: no exception escaped the runner
    result.events = await _events(harness.redis, task.task_id)
    assert result.events and result.final.kind in {"completed", "failed"}, result.events
    pending = await harness.redis.xpending(keys.READY_STREAM, keys.RUNNERS_GROUP)
    assert pending["pending"] == 0  # acked
    assert await _containers_of(harness.docker, task.task_id) == []
    assert not harness.work_dir.exists() or list(harness.work_dir.iterdir()) == []
    return result


async def _events(client: redis.Redis, task_id: UUID) -> list[TaskEvent]:
    entries = await client.xrange(keys.EVENTS_STREAM)
    events = [decode_message(TaskEvent, fields) for _, fields in entries]
    return [event for event in events if event.task_id == task_id]


async def _containers_of(docker: aiodocker.Docker, task_id: UUID) -> list[str]:
    label = f"packguard.task_id={task_id}"
    containers = await docker.containers.list(all=True, filters={"label": [label]})
    return [container.id for container in containers]


async def _watch_host_side(
    harness: Harness, task_id: UUID, draining: asyncio.Future[None], into: Attempt
) -> None:
    """Sample, until the runner is done, what the task puts on the host's disk: its
    workspace (artifact, report mount) and the engine's log file of its container."""
    while not draining.done():
        into.peak_workspace_bytes = max(into.peak_workspace_bytes, _disk_bytes(harness.work_dir))
        for container_id in await _containers_of(harness.docker, task_id):
            into.seen_containers.add(container_id)
            with contextlib.suppress(aiodocker.DockerError, OSError):
                container = await harness.docker.containers.get(container_id)
                log_bytes = Path(container["LogPath"]).stat().st_blocks * 512
                into.peak_log_bytes = max(into.peak_log_bytes or 0, log_bytes)
        await asyncio.wait({draining}, timeout=0.05)


def _disk_bytes(root: Path) -> int:
    """Blocks in use under ``root`` (so a sparse file counts what it really takes)."""
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
    return total


async def test_fork_bomb_is_held_by_the_pids_limit_and_reported(harness: Harness) -> None:
    result = await attempt(harness, escape_samples.fork_bomb())
    (evidence,) = result.evidence(EXHAUSTION)
    print(f"fork bomb: {evidence}")
    assert evidence.startswith("processes limit:") and "refused at the pids limit" in evidence
    assert result.report.verdict.label in {VerdictLabel.SUSPICIOUS, VerdictLabel.MALICIOUS}


async def test_memory_bomb_in_package_code_is_killed_and_reported(harness: Harness) -> None:
    result = await attempt(harness, escape_samples.memory_bomb())
    assert any(e.startswith("memory limit:") for e in result.evidence(EXHAUSTION))
    install = next(phase for phase in result.report.phases if phase.name == "install")
    assert install.status == "failed"  # the bomb was the build; the kernel ended it
    assert result.report.verdict.label in {VerdictLabel.SUSPICIOUS, VerdictLabel.MALICIOUS}


async def test_memory_bomb_no_kill_can_free_still_spares_the_analyzer(harness: Harness) -> None:
    # Its memory is in a memfd, not in any process's size: the analyzer (PID 1) survives
    # only because package code runs as the OOM killer's first choice.
    result = await attempt(harness, escape_samples.memory_bomb(memfd=True))
    assert any(e.startswith("memory limit:") for e in result.evidence(EXHAUSTION))


async def test_memory_bomb_that_takes_the_analyzer_down_fails_as_resource_limit(
    harness: Harness,
) -> None:
    result = await attempt(harness, escape_samples.memory_bomb(memfd=True, lower_oom_score=True))
    assert (result.final.kind, result.final.error_code) == ("failed", "resource_limit")
    assert result.final.error_message is not None and "memory" in result.final.error_message


async def test_disk_fill_stays_in_the_sandbox_and_is_reported(harness: Harness) -> None:
    sample = escape_samples.disk_fill(cap_bytes=128 << 20)
    result = await attempt(harness, sample, watch=True)
    full = [f"disk limit: {mount} left full" for mount in ("/sandbox/scratch", "/tmp", "/dev/shm")]
    assert sorted(result.evidence(EXHAUSTION)) == sorted(full)
    print(
        f"disk fill: host workspace peak {result.peak_workspace_bytes} B, log peak "
        f"{result.peak_log_bytes} B"
    )
    # On the host: the artifact, the report file flooded up to the file-size limit (the
    # scratch size) and nothing else from the output mount; a log file of about 1 MiB.
    assert result.seen_containers, "the watcher never saw the container"
    block_rounding = 1 << 20
    assert result.peak_workspace_bytes <= LIMITS.scratch_bytes + block_rounding
    if result.peak_log_bytes is not None:  # the engine is local: its log file is here
        assert result.peak_log_bytes <= 2 << 20
    refused = [e for e in result.evidence("dynamic-write-outside-package") if "EACCES" in e]
    assert refused == ["write /sandbox/output/packguard-escape-fill-0 (EACCES)"]


async def test_writes_outside_scratch_are_refused_and_reported(harness: Harness) -> None:
    sample = escape_samples.writes_outside_scratch()
    result = await attempt(harness, sample)
    evidence = result.evidence("dynamic-write-outside-package")
    for path in (*escape_samples.WRITE_TARGETS, f"/sandbox/input/{sample.artifact.filename}"):
        assert any(e.startswith(f"write {path} (E") for e in evidence), (path, evidence)
    trace = result.report.dynamic
    assert trace is not None
    touched = {(record.path, record.ok) for record in trace.files}
    outside = [*escape_samples.WRITE_TARGETS, *escape_samples.DELETE_TARGETS]
    assert {(path, False) for path in outside} <= touched  # every one refused
    assert result.report.verdict.label == VerdictLabel.MALICIOUS


async def test_host_environment_is_not_visible_to_package_code(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    host_secret = f"packguard-host-secret-{secrets.token_hex(8)}"
    monkeypatch.setenv("PACKGUARD_ESCAPE_HOST_SECRET", host_secret)  # in the runner's env
    result = await attempt(harness, escape_samples.host_environment())
    assert host_secret not in result.final.model_dump_json()
    assert "read /proc/1/environ" in result.evidence("dynamic-sensitive-file-read")
    # What it could collect and send was the sandbox's own environment and its bait.
    assert result.finding("dynamic-bait-sent")
    trace = result.report.dynamic
    assert trace is not None
    (sent,) = [r for r in trace.http if r.host == "env-collector.invalid"]
    assert "HOME=%2Fsandbox%2Fscratch" in sent.request_line


async def test_network_reaches_nothing_outside_the_container(harness: Harness) -> None:
    connections = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    server = await asyncio.start_server(count, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await attempt(harness, escape_samples.network_reach(port))
    finally:
        server.close()
        await server.wait_closed()
    assert connections == 0  # the container's 127.0.0.1 is its own
    trace = result.report.dynamic
    assert trace is not None
    attempts = {(r.address, r.port): r.ok for r in trace.network}
    for address, target_port in (*escape_samples.NETWORK_TARGETS, ("198.51.100.53", 53)):
        assert attempts.get((address, target_port)) is False, trace.network
    assert any(
        "192.0.2.10:443 (ENETUNREACH)" in e for e in result.evidence("dynamic-connect-remote")
    )


async def test_docker_socket_is_not_in_the_sandbox(harness: Harness, docker_host: str) -> None:
    engine = docker_host.removeprefix("unix://")
    extra = (engine,) if docker_host.startswith("unix://") else ()
    result = await attempt(harness, escape_samples.docker_socket(extra))
    trace = result.report.dynamic
    assert trace is not None
    unix = {r.address: r.ok for r in trace.network if r.family == "unix"}
    for path in (*escape_samples.ENGINE_SOCKETS, *extra):
        assert unix.get(path) is False, trace.network
    rules = {finding.rule_id for finding in result.report.findings}
    assert "dynamic-container-engine-socket" in rules


async def test_sleeping_past_the_timeout_fails_as_timeout(harness: Harness) -> None:
    harness.backend.timeout_seconds = 10
    result = await attempt(harness, escape_samples.sleeper())
    assert (result.final.kind, result.final.error_code) == ("failed", "timeout")
