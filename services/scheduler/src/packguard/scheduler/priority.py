"""Which ready stream a task goes to."""

from __future__ import annotations

from enum import StrEnum

DEFAULT_PRIORITY_THRESHOLD = 5


class QueueTarget(StrEnum):
    """A ready stream, by role; the values are the targets ``lua.SCHEDULE_DELAYED`` stores."""

    PRIORITY = "priority"
    READY = "ready"


def queue_target(priority: int, *, threshold: int = DEFAULT_PRIORITY_THRESHOLD) -> QueueTarget:
    """Tasks at or above ``threshold`` go to the priority stream, which runners read first."""
    return QueueTarget.PRIORITY if priority >= threshold else QueueTarget.READY
