"""Run the real analyzer image the way the runner runs it (container_config +
DockerSandbox) on one artifact the test built, and read back its report."""

from __future__ import annotations

import time
from pathlib import Path

import aiodocker

from packguard.common import sandbox as contract
from packguard.common.report import AnalysisReport, Finding
from packguard.runner.analysis import TaskWorkspace
from packguard.runner.sandbox import DockerSandbox, SandboxLimits, SandboxOutcome, container_config
from tests.fixtures.packages import BuiltArtifact

LIMITS = SandboxLimits(
    memory_bytes=1024 * 2**20,
    nano_cpus=1_000_000_000,
    pids_limit=256,
    scratch_bytes=512 * 2**20,
    nofile=(1024, 4096),
    nproc=(1024, 4096),
)


async def _never() -> bool:
    return False


async def analyse(
    docker: aiodocker.Docker,
    image: str,
    tmp_path: Path,
    ecosystem: str,
    artifact: BuiltArtifact,
    name: str,
    version: str = "1.0",
) -> tuple[AnalysisReport, float]:
    """The report of ``artifact``, declared as package ``name``, and the seconds it took."""
    workspace = TaskWorkspace(tmp_path / "task")
    workspace.create()
    (workspace.input_dir / artifact.filename).write_bytes(artifact.data)
    command = contract.analyzer_command(
        ecosystem=ecosystem, name=name, version=version, artifact_filenames=[artifact.filename]
    )
    config = container_config(
        image=image,
        command=command,
        input_dir=workspace.input_dir,
        output_dir=workspace.output_dir,
        limits=LIMITS,
        labels={"packguard.test": "dynamic"},
    )
    started = time.monotonic()
    result = await DockerSandbox(docker).run(
        f"packguard-test-dynamic-{ecosystem}-{artifact.sha256[:12]}",
        config,
        timeout_seconds=180,
        is_cancelled=_never,
    )
    elapsed = time.monotonic() - started
    assert result.outcome is SandboxOutcome.EXITED, result.output_tail
    assert result.exit_code == contract.EXIT_OK, result.output_tail
    report_path = workspace.output_dir / contract.REPORT_FILENAME
    return AnalysisReport.model_validate_json(report_path.read_text()), elapsed


def by_rule(report: AnalysisReport) -> dict[str, Finding]:
    return {finding.rule_id: finding for finding in report.findings}


def phase_statuses(report: AnalysisReport) -> dict[str, str]:
    return {phase.name: phase.status for phase in report.phases}
