"""How a claimed task becomes a report: the real sandbox, or a no-op for benchmarks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp

from packguard.common.messages import TaskMessage
from packguard.common.purl import Ecosystem, PackageRef
from packguard.common.report import AnalysisReport, PackageInfo, Verdict, VerdictLabel
from packguard.common.uploads import UploadStore
from packguard.runner.analysis import TaskWorkspace, run_analysis
from packguard.runner.download import DownloadedArtifact, download_artifact
from packguard.runner.registries import RegistryAdapter
from packguard.runner.sandbox import CancelCheck, DockerSandbox, SandboxLimits

PhaseHook = Callable[[str], Awaitable[None]]
ANALYZE_PHASE = "analyze"
"""The phase a backend enters once the artifacts are fetched and verified."""


@dataclass(frozen=True, slots=True)
class AnalysisOutcome:
    report: AnalysisReport
    artifact_sha256: str | None


class AnalysisBackend(Protocol):
    async def analyze(
        self,
        task: TaskMessage,
        package: PackageRef,
        *,
        on_phase: PhaseHook,
        is_cancelled: CancelCheck,
    ) -> AnalysisOutcome:
        """The report of ``package``; raises PackguardError (or AnalysisCancelled)."""
        ...


@dataclass(frozen=True, slots=True)
class SandboxBackend:
    """Fetch the exact artifact (registry or upload), verify it, run the analyzer on it."""

    http: aiohttp.ClientSession
    sandbox: DockerSandbox
    registries: dict[Ecosystem, RegistryAdapter]
    uploads: UploadStore
    image: str
    limits: SandboxLimits
    work_dir: Path
    max_artifact_bytes: int

    async def analyze(
        self,
        task: TaskMessage,
        package: PackageRef,
        *,
        on_phase: PhaseHook,
        is_cancelled: CancelCheck,
    ) -> AnalysisOutcome:
        workspace = TaskWorkspace(self.work_dir / f"{task.task_id}-{task.attempt}")
        try:
            workspace.create()
            artifacts = await self._fetch(package, workspace)
            await on_phase(ANALYZE_PHASE)
            report = await run_analysis(
                self.sandbox,
                image=self.image,
                limits=self.limits,
                workspace=workspace,
                artifacts=artifacts,
                package=package,
                task_id=task.task_id,
                attempt=task.attempt,
                timeout_seconds=task.timeout_minutes * 60,
                is_cancelled=is_cancelled,
            )
            return AnalysisOutcome(report, artifacts[0].sha256)
        finally:
            workspace.remove()

    async def _fetch(
        self, package: PackageRef, workspace: TaskWorkspace
    ) -> list[DownloadedArtifact]:
        """The artifacts in the workspace: the uploaded bytes, or the registry's release
        (PyPI: its sdist and one wheel when both exist), primary first."""
        if package.upload is not None:
            target = workspace.input_dir / package.upload.filename
            size = await self.uploads.fetch_to(
                package.upload.sha256, target, max_bytes=self.max_artifact_bytes
            )
            return [DownloadedArtifact(path=target, size_bytes=size, sha256=package.upload.sha256)]
        locations = await self.registries[package.ecosystem].locate_all(self.http, package)
        return [
            await download_artifact(
                self.http,
                location,
                workspace.input_dir / location.filename,
                max_bytes=self.max_artifact_bytes,
            )
            for location in locations
        ]


NOOP_ANALYZER_VERSION = "noop"


class NoopBackend:
    """Answers at once with an empty benign report: measures the control plane alone.

    Only for benchmarks and chaos runs (``ANALYSIS_BACKEND=noop``); its reports carry
    analyzer_version "noop" so they never answer a real submission from the cache.
    """

    async def analyze(
        self,
        task: TaskMessage,
        package: PackageRef,
        *,
        on_phase: PhaseHook,
        is_cancelled: CancelCheck,
    ) -> AnalysisOutcome:
        report = AnalysisReport(
            analyzer_version=NOOP_ANALYZER_VERSION,
            package=PackageInfo(
                ecosystem=package.ecosystem.value, name=package.name, version=package.version
            ),
            artifacts=[],
            verdict=Verdict(label=VerdictLabel.BENIGN, score=0.0, summary="no-op backend"),
        )
        return AnalysisOutcome(report, None)
