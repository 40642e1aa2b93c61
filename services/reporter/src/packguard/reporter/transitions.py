"""Which events may change a task row: status only moves forward, finals never change."""

from __future__ import annotations

from enum import StrEnum

from packguard.common.messages import EventKind, TaskStatus


class Decision(StrEnum):
    """Why an event was or was not applied (the ``reason`` of ``event_not_applied``)."""

    APPLY = "apply"
    UNKNOWN_TASK = "unknown_task"
    ALREADY_FINAL = "already_final"
    STALE_ATTEMPT = "stale_attempt"
    NOT_RECORDED = "not_recorded"
    """Kinds whose status another writer owns (queued, delayed: scheduler; cancelled: gateway)."""


def event_decision(
    kind: EventKind, *, status: TaskStatus | None, task_attempt: int, event_attempt: int
) -> Decision:
    """Whether an event of ``kind`` applies to a row in ``status`` at ``task_attempt``.

    ``running`` and ``phase`` belong to one attempt: a late event of an earlier attempt
    (its retry is already accepted) is stale. ``completed`` and ``failed`` apply to any
    attempt: whichever outcome arrives first is the task's.
    """
    if kind not in ("running", "phase", "completed", "failed"):
        return Decision.NOT_RECORDED
    if status is None:
        return Decision.UNKNOWN_TASK
    if status.is_final:
        return Decision.ALREADY_FINAL
    if kind in ("running", "phase") and task_attempt != event_attempt:
        return Decision.STALE_ATTEMPT
    return Decision.APPLY
