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
    ResourceLimitExceeded,
)
from packguard.common.purl import PackageRef
from packguard.common.report import AnalysisReport
from packguard.runner.download import DownloadedArtifact
from packguard.runner.sandbox import (
    CancelCheck,
    DockerSandbox,
    SandboxLimits,
    SandboxOutcome,
    SandboxResult,
    container_config,
)

_REPORT_MAX_BYTES = 64 * 1024 * 1024
_SANDBOX_UID = int(contract.SANDBOX_USER.split(":")[0])
# How Python words ENOSPC in the traceback an analyzer that died of a full disk leaves.
_NO_SPACE = "[Errno 28] No space left on device"


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

    @property
    def report_path(self) -> Path:
        return self.output_dir / contract.REPORT_FILENAME

    def create(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.input_dir.mkdir(parents=True, mode=0o755)
        self.output_dir.mkdir(mode=0o755)
        # The analyzer runs as nobody and overwrites this one file. Package code runs as
        # nobody too: the directory stays ours so it cannot add files to this disk, and
        # the container's file-size limit caps this one (see common.sandbox).
        self.report_path.touch(mode=0o600)
        if os.geteuid() == 0:
            os.chown(self.report_path, _SANDBOX_UID, _SANDBOX_UID)
        else:
            self.report_path.chmod(0o666)

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
    return accepted_report(
        result, _read_report(workspace.report_path), timeout_seconds=timeout_seconds
    )


def accepted_report(
    result: SandboxResult, report: AnalysisReport | None, *, timeout_seconds: float
) -> AnalysisReport:
    """The report a finished container left, or the failure (raised) it means for the task."""
    if result.outcome is SandboxOutcome.TIMED_OUT:
        raise AnalysisTimeout(f"analysis exceeded {int(timeout_seconds)} s and was killed")
    if result.exit_code == contract.EXIT_OK and report is not None:
        # The analyzer finished. Whatever the kernel killed on the way (the engine flags
        # any OOM kill in the container) was package code, and the report records it.
        return report
    if result.exit_code == contract.EXIT_REJECTED:
        raise HostileArchive(report.error if report and report.error else "archive rejected")
    if result.oom_killed:
        raise ResourceLimitExceeded(
            "the sandbox ran out of memory and the analyzer itself was killed"
        )
    if _NO_SPACE in result.output_tail:
        raise ResourceLimitExceeded(
            f"the sandbox ran out of scratch space: {_excerpt(result.output_tail)}"
        )
    raise AnalyzerCrashed(f"analyzer exited {result.exit_code}: {_excerpt(result.output_tail)}")


def _excerpt(output: str) -> str:
    return output[-500:].strip()


def _read_report(path: Path) -> AnalysisReport | None:
    try:
        if path.is_symlink() or path.stat().st_size > _REPORT_MAX_BYTES:
            return None
        return AnalysisReport.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
