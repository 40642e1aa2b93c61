"""Judging a run from what the clients were told and what PostgreSQL and S3 hold.

Definitions (per *submission*: one purl sent under one idempotency key, retried and
re-sent as often as the client liked):

- **submitted**: the API answered it with a task id (202, or a replay of that answer).
- **lost**: submitted, and at the end of the settle window its task has no row, is not
  final (pending, queued, delayed or running), was cancelled although nobody cancelled
  anything, or is completed without its ``results`` row or without its report object.
- **duplicated**: the client was answered with more than one task id, or PostgreSQL holds
  more than one task row for its purl or idempotency key, or its task has more than one
  ``results`` row or more than one report object in S3.
- **uncategorized**: a failed task without an ``error_category``.
- **stray report**: a report object whose task is not completed (or not known at all).

A run passes when every planned submission was accepted and lost, duplicated,
uncategorized and stray reports are all zero. Logs are never read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bench.chaos.plan import Submission
from packguard.runner.backends import NOOP_ANALYZER_VERSION

FINAL = frozenset({"completed", "failed", "cancelled"})
SAMPLE_LIMIT = 10


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: str
    purl: str
    status: str
    error_category: str | None
    idempotency_key: str | None
    report_key: str | None
    analyzer_version: str | None


@dataclass(frozen=True, slots=True)
class Evidence:
    rows: Sequence[TaskRow]
    results: Mapping[str, int]
    """Task id → number of ``results`` rows."""
    report_objects: Mapping[str, Sequence[str]]
    """Task id → the report object keys named after it."""


@dataclass(frozen=True, slots=True)
class Observed:
    """What the client was told about one submission."""

    submission: Submission
    task_ids: frozenset[str]


@dataclass(slots=True)
class Audit:
    planned: int = 0
    submitted: int = 0
    completed: int = 0
    failed: int = 0
    lost: dict[str, str] = field(default_factory=dict)
    """Purl → why it counts as lost."""
    duplicated: dict[str, str] = field(default_factory=dict)
    uncategorized: list[str] = field(default_factory=list)
    stray_reports: list[str] = field(default_factory=list)
    untracked_rows: int = 0
    """Task rows whose purl no accepted submission had (a client gave up on it)."""
    failures: Counter[str] = field(default_factory=Counter)
    """``kind/error_category`` → count."""
    completed_by: Counter[str] = field(default_factory=Counter)
    """Runner kind (``noop`` or ``sandbox``, read off the analyzer version) → count."""
    unexpected: dict[str, str] = field(default_factory=dict)
    """Purl → outcome, where the plan expected the other final state (information only)."""

    @property
    def unaccepted(self) -> int:
        return self.planned - self.submitted

    @property
    def passed(self) -> bool:
        return not (
            self.unaccepted
            or self.lost
            or self.duplicated
            or self.uncategorized
            or self.stray_reports
        )

    def line(self) -> str:
        return (
            f"chaos: submitted={self.submitted} completed={self.completed} "
            f"failed={self.failed} lost={len(self.lost)} duplicated={len(self.duplicated)}"
        )


def audit_run(observed: Iterable[Observed], evidence: Evidence) -> Audit:
    audit = Audit()
    rows_by_id = {row.id: row for row in evidence.rows}
    rows_by_purl: defaultdict[str, list[TaskRow]] = defaultdict(list)
    rows_by_key: defaultdict[str, list[TaskRow]] = defaultdict(list)
    for row in evidence.rows:
        rows_by_purl[row.purl].append(row)
        if row.idempotency_key is not None:
            rows_by_key[row.idempotency_key].append(row)
    accepted_purls = set()
    for seen in observed:
        audit.planned += 1
        if not seen.task_ids:
            continue
        submission = seen.submission
        audit.submitted += 1
        accepted_purls.add(submission.purl)
        purl_rows = rows_by_purl[submission.purl]
        key_rows = rows_by_key[submission.idempotency_key]
        tasks = [rows_by_id[i] for i in sorted(seen.task_ids) if i in rows_by_id]
        duplicate = _duplicate_reason(seen, purl_rows, key_rows, tasks, evidence)
        if duplicate:
            audit.duplicated[submission.purl] = duplicate
        if not tasks:
            audit.lost[submission.purl] = "no task row"
            continue
        task = tasks[0]
        lost = _lost_reason(task, evidence)
        if lost:
            audit.lost[submission.purl] = lost
        _count_outcome(audit, submission, task)
    audit.untracked_rows = sum(
        len(rows) for purl, rows in rows_by_purl.items() if purl not in accepted_purls
    )
    for task_id, keys in evidence.report_objects.items():
        owner = rows_by_id.get(task_id)
        if owner is None or owner.status != "completed":
            audit.stray_reports.extend(keys)
    return audit


def _duplicate_reason(
    seen: Observed,
    purl_rows: Sequence[TaskRow],
    key_rows: Sequence[TaskRow],
    tasks: Sequence[TaskRow],
    evidence: Evidence,
) -> str | None:
    if len(seen.task_ids) > 1:
        return f"the client was answered {len(seen.task_ids)} task ids"
    if len(purl_rows) > 1:
        return f"{len(purl_rows)} task rows for the purl"
    if len(key_rows) > 1:
        return f"{len(key_rows)} task rows for the idempotency key"
    for task in tasks:
        if evidence.results.get(task.id, 0) > 1:
            return f"{evidence.results[task.id]} results rows"
        objects = evidence.report_objects.get(task.id, ())
        if len(objects) > 1:
            return f"{len(objects)} report objects"
    return None


def _lost_reason(task: TaskRow, evidence: Evidence) -> str | None:
    if task.status not in FINAL:
        return f"still {task.status}"
    if task.status == "cancelled":
        return "cancelled, though nobody cancelled it"
    if task.status != "completed":
        return None
    if evidence.results.get(task.id, 0) == 0:
        return "completed without a results row"
    objects = evidence.report_objects.get(task.id, ())
    if not objects:
        return "completed without a report object"
    if task.report_key not in objects:
        return f"its report_key {task.report_key!r} names no stored object"
    return None


def _count_outcome(audit: Audit, submission: Submission, task: TaskRow) -> None:
    if task.status == "completed":
        audit.completed += 1
        runner = "noop" if task.analyzer_version == NOOP_ANALYZER_VERSION else "sandbox"
        audit.completed_by[runner] += 1
    elif task.status == "failed":
        audit.failed += 1
        audit.failures[f"{submission.kind}/{task.error_category or '(none)'}"] += 1
        if not task.error_category:
            audit.uncategorized.append(submission.purl)
    if task.status in ("completed", "failed") and task.status != submission.expect:
        audit.unexpected[submission.purl] = task.status


def samples(problems: Mapping[str, str]) -> list[str]:
    """A few ``purl: reason`` lines to print."""
    return [f"{purl}: {reason}" for purl, reason in sorted(problems.items())[:SAMPLE_LIMIT]]
