"""Exit codes of ``packguard`` (pure): the verdict decides, failures are 3."""

from __future__ import annotations

from packguard.common.api import TaskView
from packguard.common.messages import TaskStatus
from packguard.common.report import VerdictLabel

EXIT_OK = 0
"""Benign or low verdict; or the command succeeded and has no verdict to report."""
EXIT_SUSPICIOUS = 1
EXIT_MALICIOUS = 2
EXIT_ERROR = 3
"""The task failed or was cancelled, the API refused the request, or bad usage."""

EXIT_CODES_HELP = (
    "Exit codes: 0 benign or low verdict (or success without a verdict), 1 suspicious, "
    "2 malicious, 3 failed or cancelled task, API or connection error, bad usage."
)

_BY_VERDICT = {
    VerdictLabel.BENIGN: EXIT_OK,
    VerdictLabel.LOW: EXIT_OK,
    VerdictLabel.SUSPICIOUS: EXIT_SUSPICIOUS,
    VerdictLabel.MALICIOUS: EXIT_MALICIOUS,
}


def exit_code_for_verdict(label: VerdictLabel) -> int:
    return _BY_VERDICT[label]


def exit_code_for_task(task: TaskView) -> int:
    """In flight: 0; completed: by verdict (3 without one); failed or cancelled: 3."""
    if task.status in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        return EXIT_ERROR
    if task.status is TaskStatus.COMPLETED:
        return exit_code_for_verdict(task.verdict.label) if task.verdict else EXIT_ERROR
    return EXIT_OK
