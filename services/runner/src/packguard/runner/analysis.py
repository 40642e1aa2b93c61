"""One sandboxed analysis of a release's downloaded artifacts: container result → report or
error."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from pydantic import ValidationError

from packguard.common import sandbox as contract
from packguard.common.errors import (
    AnalysisTimeout,
    AnalyzerCrashed,
    HostileArchive,
)
from packguard.common.purl import PackageRef
from packguard.common.report import AnalysisReport
from packguard.runner.download import DownloadedArtifact
from packguard.runner.sandbox import (
    CancelCheck,
    DockerSandbox,
    SandboxLimits,
    SandboxOutcome,
    container_config,
)

_REPORT_MAX_BYTES = 64 * 1024 * 1024
_SANDBOX_UID = int(contract.SANDBOX_USER.split(":")[0])


class AnalysisCancelled(Exception):
    """The task was cancelled while its container ran."""


@dataclass(frozen=True, slots=True)
class TaskWorkspace:
    """Per-task host directories mounted into the container."""

    root: Path

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    def create(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.input_dir.mkdir(parents=True, mode=0o755)
        self.output_dir.mkdir(mode=0o755)
        # The analyzer runs as nobody and must be able to write its report here.
        if os.geteuid() == 0:
            os.chown(self.output_dir, _SANDBOX_UID, _SANDBOX_UID)
        else:
            self.output_dir.chmod(0o777)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


async def run_analysis(
    sandbox: DockerSandbox,
    *,
    image: str,
    limits: SandboxLimits,
    workspace: TaskWorkspace,
    artifacts: Sequence[DownloadedArtifact],
    package: PackageRef,
    task_id: UUID,
    attempt: int,
    timeout_seconds: float,
    is_cancelled: CancelCheck,
    static_only: bool = False,
) -> AnalysisReport:
    command = contract.analyzer_command(
        ecosystem=package.ecosystem.value,
        name=package.name,
        version=package.version,
        artifact_filenames=[artifact.path.name for artifact in artifacts],
        static_only=static_only,
    )
    config = container_config(
        image=image,
        command=command,
        input_dir=workspace.input_dir,
        output_dir=workspace.output_dir,
        limits=limits,
        labels={"packguard.task_id": str(task_id), "packguard.attempt": str(attempt)},
    )
    result = await sandbox.run(
        f"packguard-{task_id}-{attempt}",
        config,
        timeout_seconds=timeout_seconds,
        is_cancelled=is_cancelled,
    )
    if result.outcome is SandboxOutcome.CANCELLED:
        raise AnalysisCancelled()
    if result.outcome is SandboxOutcome.TIMED_OUT:
        raise AnalysisTimeout(f"analysis exceeded {int(timeout_seconds)} s and was killed")
    if result.oom_killed:
        raise AnalyzerCrashed("analysis exceeded the sandbox memory limit and was killed")
    report = _read_report(workspace.output_dir / contract.REPORT_FILENAME)
    if result.exit_code == contract.EXIT_REJECTED:
        raise HostileArchive(report.error if report and report.error else "archive rejected")
    if result.exit_code != contract.EXIT_OK or report is None:
        raise AnalyzerCrashed(
            f"analyzer exited {result.exit_code}: {result.output_tail[-500:]}".strip()
        )
    return report


def _read_report(path: Path) -> AnalysisReport | None:
    try:
        if path.is_symlink() or path.stat().st_size > _REPORT_MAX_BYTES:
            return None
        return AnalysisReport.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
