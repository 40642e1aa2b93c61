"""How tasks, reports and keys look in a terminal (rich renderables, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from packguard.common.api import TaskView
from packguard.common.report import AnalysisReport, VerdictLabel
from packguard.gateway.apikeys import ApiKey

_VERDICT_STYLE = {
    VerdictLabel.BENIGN: "green",
    VerdictLabel.LOW: "green",
    VerdictLabel.SUSPICIOUS: "yellow",
    VerdictLabel.MALICIOUS: "bold red",
}


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def status_line(task: TaskView) -> str:
    """``queued (position 3)``, ``running: install``, ``completed: benign 0.0``, ..."""
    text = task.status.value
    if task.queue_position is not None:
        text += f" (position {task.queue_position})"
    if task.phase and not task.status.is_final:
        text += f": {task.phase}"
    if task.verdict is not None:
        text += f": {task.verdict.label.value} {task.verdict.score:.1f}"
    if task.error is not None:
        text += f": {task.error.category}: {task.error.message}"
    return text


def verdict_text(label: VerdictLabel, score: float) -> Text:
    return Text(f"{label.value} ({score:.1f}/10)", style=_VERDICT_STYLE[label])


def task_table(task: TaskView) -> Table:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("task", str(task.task_id))
    table.add_row("purl", task.purl)
    table.add_row("status", task.status.value)
    if task.queue_position is not None:
        table.add_row("queue position", str(task.queue_position))
    if task.phase:
        table.add_row("phase", task.phase)
    table.add_row("attempts", str(task.attempts))
    table.add_row("created", _when(task.created_at))
    table.add_row("started", _when(task.started_at))
    table.add_row("finished", _when(task.finished_at))
    if task.verdict is not None:
        table.add_row("verdict", verdict_text(task.verdict.label, task.verdict.score))
    if task.error is not None:
        table.add_row("error", f"{task.error.category}: {task.error.message}")
    return table


def report_summary(report: AnalysisReport) -> RenderableType:
    package = report.package
    header = Table(show_header=False, box=None)
    header.add_column(style="bold")
    header.add_column()
    header.add_row("package", f"{package.ecosystem} {package.name} {package.version}")
    header.add_row("verdict", verdict_text(report.verdict.label, report.verdict.score))
    if report.verdict.summary:
        header.add_row("summary", report.verdict.summary)
    header.add_row("analyzer", report.analyzer_version)
    for artifact in report.artifacts:
        header.add_row("artifact", f"{artifact.filename} sha256:{artifact.sha256}")
    if not report.findings:
        return Group(header, Text("no findings", style="green"))
    findings = Table(title=f"{len(report.findings)} findings")
    for column in ("severity", "rule", "title", "where"):
        findings.add_column(column)
    for finding in report.findings:
        where = ", ".join(
            f"{e.file}:{e.line}" if e.line else (e.file or e.phase or "-")
            for e in finding.evidence[:3]
        )
        findings.add_row(finding.severity.value, finding.rule_id, finding.title, where or "-")
    return Group(header, findings)


def api_keys_table(keys: Sequence[ApiKey]) -> Table:
    table = Table()
    for column in ("id", "name", "admin", "rate limit/min", "created", "revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            str(key.id),
            key.name,
            "yes" if key.is_admin else "",
            str(key.rate_limit_per_minute) if key.rate_limit_per_minute else "default",
            _when(key.created_at),
            _when(key.revoked_at) if key.revoked_at else "",
        )
    return table
