"""Terminal rendering of tasks, reports and keys."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from rich.console import Console, RenderableType

from packguard.cli.display import api_keys_table, report_summary, status_line
from packguard.common.api import TaskError, TaskLinks, TaskView, VerdictSummary
from packguard.common.messages import TaskStatus
from packguard.common.purl import Ecosystem
from packguard.common.report import (
    AnalysisReport,
    Evidence,
    Finding,
    PackageInfo,
    Severity,
    Verdict,
    VerdictLabel,
)
from packguard.gateway.apikeys import ApiKey

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _text(renderable: RenderableType) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def _task(**changes: object) -> TaskView:
    fields: dict[str, object] = {
        "task_id": uuid4(),
        "purl": "pkg:pypi/six@1.16.0",
        "ecosystem": Ecosystem.PYPI,
        "status": TaskStatus.QUEUED,
        "verdict": None,
        "created_at": NOW,
        "finished_at": None,
        "links": TaskLinks(status="s", report="r"),
        "phase": None,
        "priority": 0,
        "queue_position": None,
        "attempts": 0,
        "not_before": None,
        "started_at": None,
        "error": None,
    }
    return TaskView.model_validate(fields | changes)


def test_status_line_shows_position_phase_verdict_and_error() -> None:
    assert status_line(_task(queue_position=3)) == "queued (position 3)"
    assert status_line(_task(status=TaskStatus.RUNNING, phase="install")) == "running: install"
    done = _task(
        status=TaskStatus.COMPLETED, verdict=VerdictSummary(label=VerdictLabel.LOW, score=1.25)
    )
    assert status_line(done) == "completed: low 1.2"
    failed = _task(status=TaskStatus.FAILED, error=TaskError(category="timeout", message="30m"))
    assert status_line(failed) == "failed: timeout: 30m"


def test_task_table_lists_the_fields() -> None:
    text = _text(_task(status=TaskStatus.RUNNING, phase="import", attempts=2))

    assert "pkg:pypi/six@1.16.0" in text and "import" in text and "running" in text


def test_report_summary_lists_verdict_and_findings() -> None:
    report = AnalysisReport(
        analyzer_version="0.1.0",
        package=PackageInfo(ecosystem="pypi", name="evil", version="1.0"),
        artifacts=[],
        findings=[
            Finding(
                rule_id="exfil-ssh-key",
                title="Reads SSH keys",
                severity=Severity.HIGH,
                confidence=0.9,
                category="exfil",
                evidence=[Evidence(file="setup.py", line=12)],
            )
        ],
        verdict=Verdict(label=VerdictLabel.MALICIOUS, score=9.0, summary="steals keys"),
    )

    text = _text(report_summary(report))

    assert "malicious (9.0/10)" in text and "steals keys" in text
    assert "exfil-ssh-key" in text and "setup.py:12" in text


def test_report_summary_without_findings_says_so() -> None:
    report = AnalysisReport(
        analyzer_version="0.1.0",
        package=PackageInfo(ecosystem="npm", name="ok", version="1.0.0"),
        artifacts=[],
        verdict=Verdict(label=VerdictLabel.BENIGN, score=0.0),
    )

    assert "no findings" in _text(report_summary(report))


def test_api_keys_table_never_shows_secrets() -> None:
    key = ApiKey(
        id=uuid4(),
        name="ci",
        is_admin=True,
        rate_limit_per_minute=None,
        created_at=NOW,
        revoked_at=None,
    )

    text = _text(api_keys_table([key]))

    assert str(key.id) in text and "ci" in text and "default" in text and "yes" in text
