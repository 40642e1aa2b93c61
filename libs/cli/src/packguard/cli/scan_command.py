"""``packguard scan``: the analyzer image in the local container engine, without the queue."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from uuid import uuid4

import aiodocker
import aiohttp
import typer
from rich.console import Console

from packguard.cli.display import report_summary
from packguard.cli.exit_codes import EXIT_ERROR, exit_code_for_verdict
from packguard.cli.scan_target import LocalTarget, ScanTarget, resolve_target
from packguard.common.errors import (
    ArtifactTooLarge,
    InvalidInput,
    PackguardError,
    SandboxUnavailable,
)
from packguard.common.purl import Ecosystem, PackageRef
from packguard.common.report import AnalysisReport
from packguard.common.sarif import report_to_sarif
from packguard.runner.analysis import TaskWorkspace, run_analysis
from packguard.runner.download import DownloadedArtifact, download_artifact
from packguard.runner.registries import build_registry
from packguard.runner.sandbox import DockerSandbox, SandboxLimits
from packguard.runner.settings import RunnerSettings

# Bind mounts name host paths: the engine must see the work dir, so not a private /tmp.
WORK_ROOT = Path("/var/tmp")  # noqa: S108
_ENGINE_PING_SECONDS = 10.0
_CHUNK_BYTES = 1024 * 1024


class ScanFormat(StrEnum):
    JSON = "json"
    SARIF = "sarif"
    TEXT = "text"


def scan(
    target: Annotated[
        str, typer.Argument(help="A local archive (.tar.gz, .zip, .whl, .tgz) or a purl.")
    ],
    output_format: Annotated[ScanFormat, typer.Option("--format")] = ScanFormat.JSON,
    static_only: Annotated[bool, typer.Option(help="Skip the install and import phases.")] = False,
    ecosystem: Annotated[
        Ecosystem | None,
        typer.Option(help="The archive's ecosystem when its name does not tell."),
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Kill the analysis after this (s).")] = (
        1800.0
    ),
) -> None:
    """Analyse one package in the local engine (DOCKER_HOST, ANALYZER_IMAGE); exit by verdict."""
    err = Console(stderr=True)
    try:
        resolved = resolve_target(target, ecosystem)
        report = asyncio.run(
            scan_target(
                resolved, RunnerSettings(), static_only=static_only, timeout_seconds=timeout
            )
        )
        rendered = render(report, output_format)
    except PackguardError as exc:
        err.print(f"[red]error[/red] {exc.code}: {exc}", highlight=False)
        raise typer.Exit(EXIT_ERROR) from None
    if isinstance(rendered, str):
        typer.echo(rendered)
    else:
        Console().print(report_summary(report))
    raise typer.Exit(exit_code_for_verdict(report.verdict.label))


def render(report: AnalysisReport, output_format: ScanFormat) -> str | AnalysisReport:
    """The text to print (JSON, SARIF), or the report itself for the rich summary."""
    if output_format is ScanFormat.TEXT:
        return report
    document = report.model_dump(mode="json")
    if output_format is ScanFormat.SARIF:
        document = report_to_sarif(report)
    return json.dumps(document, indent=2, sort_keys=True)


async def scan_target(
    target: ScanTarget, settings: RunnerSettings, *, static_only: bool, timeout_seconds: float
) -> AnalysisReport:
    package = target.package if isinstance(target, LocalTarget) else target
    root = Path(tempfile.mkdtemp(prefix="packguard-scan-", dir=WORK_ROOT))
    workspace = TaskWorkspace(root / "task")
    try:
        workspace.create()
        artifacts = await _fetch(target, workspace.input_dir, settings)
        async with open_engine(settings.docker_host) as docker:
            return await run_analysis(
                DockerSandbox(docker),
                image=settings.analyzer_image,
                limits=SandboxLimits.from_settings(settings),
                workspace=workspace,
                artifacts=artifacts,
                package=package,
                task_id=uuid4(),
                attempt=1,
                timeout_seconds=timeout_seconds,
                is_cancelled=_never_cancelled,
                static_only=static_only,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def _fetch(
    target: ScanTarget, input_dir: Path, settings: RunnerSettings
) -> list[DownloadedArtifact]:
    if isinstance(target, LocalTarget):
        return [
            copy_local_artifact(Path(target.path), input_dir, max_bytes=settings.max_artifact_bytes)
        ]
    return await download_package(target, input_dir, settings)


def copy_local_artifact(source: Path, input_dir: Path, *, max_bytes: int) -> DownloadedArtifact:
    """Copy the archive into the mounted input dir (never opened here: the sandbox does)."""
    if not source.is_file():
        raise InvalidInput(f"{source} is not a file")
    size = source.stat().st_size
    if size > max_bytes:
        raise ArtifactTooLarge(f"artifact is {size} bytes, cap is {max_bytes}")
    target = input_dir / source.name
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(_CHUNK_BYTES):
            digest.update(chunk)
            writer.write(chunk)
    target.chmod(0o644)
    return DownloadedArtifact(path=target, size_bytes=size, sha256=digest.hexdigest())


async def download_package(
    package: PackageRef, input_dir: Path, settings: RunnerSettings
) -> list[DownloadedArtifact]:
    """The release's artifacts as the runner fetches them (PyPI: sdist and a wheel)."""
    registry = build_registry(
        package.ecosystem,
        pypi_index=settings.pypi_index_url,
        npm_registry=settings.npm_registry_url,
    )
    timeout = aiohttp.ClientTimeout(sock_connect=30, sock_read=settings.registry_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        return [
            await download_artifact(
                http, location, input_dir / location.filename, max_bytes=settings.max_artifact_bytes
            )
            for location in await registry.locate_all(http, package)
        ]


@contextlib.asynccontextmanager
async def open_engine(docker_host: str | None) -> AsyncIterator[aiodocker.Docker]:
    """A client for DOCKER_HOST (else the default socket) that has answered a ping."""
    try:
        docker = aiodocker.Docker(url=docker_host)
    except (ValueError, OSError, AssertionError) as exc:  # aiodocker found no engine to try
        raise SandboxUnavailable(f"no container engine: set DOCKER_HOST ({exc})") from exc
    try:
        try:
            async with asyncio.timeout(_ENGINE_PING_SECONDS):
                await docker.version()
        except (aiodocker.DockerError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            where = docker_host or "the default socket"
            raise SandboxUnavailable(f"container engine at {where} does not answer") from exc
        yield docker
    finally:
        await docker.close()


async def _never_cancelled() -> bool:
    return False
