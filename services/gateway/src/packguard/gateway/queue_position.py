"""Queue arithmetic (pure): a task's live position and the age of a waiting entry.

Each ready stream numbers its entries (``lua.ENQUEUE_READY`` records ``queue_seq``) and
the runners' group counts the entries it has read (``entries-read`` of XINFO GROUPS), so
a queued task's position is the difference, plus whatever waits on the priority stream
ahead of it (see docs/task-lifecycle.md).
"""

from __future__ import annotations


def queue_position(*, seq: int, entries_read: int | None, waiting_ahead: int = 0) -> int | None:
    """1 runs next; 0 means a runner has taken it; None when the group cannot tell."""
    if entries_read is None:
        return None
    own = seq - entries_read
    if own <= 0:
        return 0
    return own + max(0, waiting_ahead)


def entry_age_seconds(entry_id: str, now_ms: int) -> float:
    """Seconds since a stream entry was added (its id starts with the time in ms)."""
    added_ms = int(entry_id.split("-", 1)[0])
    return max(0.0, (now_ms - added_ms) / 1000)
