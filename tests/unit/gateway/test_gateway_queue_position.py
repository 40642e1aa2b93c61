"""Queue arithmetic: live position and entry age."""

from __future__ import annotations

import pytest

from packguard.gateway.queue_position import entry_age_seconds, queue_position


@pytest.mark.parametrize(
    ("seq", "entries_read", "waiting_ahead", "position"),
    [
        (1, 0, 0, 1),
        (5, 2, 0, 3),
        (5, 2, 4, 7),
        (5, 5, 4, 0),
        (5, 9, 0, 0),
        (5, None, 0, None),
        (3, 0, -1, 3),
    ],
)
def test_queue_position_table(
    seq: int, entries_read: int | None, waiting_ahead: int, position: int | None
) -> None:
    assert (
        queue_position(seq=seq, entries_read=entries_read, waiting_ahead=waiting_ahead) == position
    )


@pytest.mark.parametrize(
    ("entry_id", "now_ms", "age"),
    [("1000-0", 3500, 2.5), ("1000-7", 1000, 0.0), ("5000-0", 1000, 0.0)],
)
def test_entry_age_seconds_from_id_time(entry_id: str, now_ms: int, age: float) -> None:
    assert entry_age_seconds(entry_id, now_ms) == age
