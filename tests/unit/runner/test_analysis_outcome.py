"""What a finished sandbox container means for its task: the report, or a failure code."""

from __future__ import annotations

import pytest

from packguard.common.errors import AnalysisFailed
from packguard.common.report import AnalysisReport, PackageInfo, Verdict, VerdictLabel
from packguard.runner.analysis import accepted_report
from packguard.runner.sandbox import SandboxOutcome, SandboxResult

REPORT = AnalysisReport(
    analyzer_version="t",
    package=PackageInfo(ecosystem="pypi", name="x", version="1"),
    artifacts=[],
    verdict=Verdict(label=VerdictLabel.BENIGN, score=0.0),
)
NO_SPACE = "OSError: [Errno 28] No space left on device: '/sandbox/scratch/x'\n"


def _result(
    exit_code: int | None,
    *,
    oom: bool = False,
    tail: str = "",
    outcome: SandboxOutcome = SandboxOutcome.EXITED,
) -> SandboxResult:
    return SandboxResult(outcome=outcome, exit_code=exit_code, oom_killed=oom, output_tail=tail)


@pytest.mark.parametrize(
    ("result", "report", "code"),
    [
        (_result(None, outcome=SandboxOutcome.TIMED_OUT), REPORT, "timeout"),
        (_result(3), REPORT.model_copy(update={"error": "unsafe_path: x"}), "hostile_archive"),
        (_result(3), None, "hostile_archive"),
        # The analyzer (PID 1) itself was killed: the container died of memory.
        (_result(137, oom=True), None, "resource_limit"),
        (_result(0, oom=True), None, "resource_limit"),
        (_result(1, tail=NO_SPACE), None, "resource_limit"),
        (_result(1, tail="Traceback ... KeyError: 'x'\n"), None, "analyzer_crashed"),
        (_result(0), None, "analyzer_crashed"),
        (_result(137), None, "analyzer_crashed"),
    ],
)
def test_container_outcome_maps_to_its_failure_code(
    result: SandboxResult, report: AnalysisReport | None, code: str
) -> None:
    with pytest.raises(AnalysisFailed) as raised:
        accepted_report(result, report, timeout_seconds=60)
    assert raised.value.code == code


@pytest.mark.parametrize("oom", [False, True])
def test_finished_analysis_stands_even_when_package_code_was_oom_killed(oom: bool) -> None:
    # The engine flags any OOM kill in the container; the analyzer survived and says so.
    assert accepted_report(_result(0, oom=oom), REPORT, timeout_seconds=60) is REPORT
