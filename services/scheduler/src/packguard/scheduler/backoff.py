"""How long a retry waits: exponential backoff with subtractive jitter."""

from __future__ import annotations

from typing import Protocol

# 2**64 times any sane base is far beyond any cap; stops float overflow for huge attempts.
_MAX_EXPONENT = 64


class RandomSource(Protocol):
    """What ``random.Random`` offers and a test can pin: a float in [0, 1)."""

    def random(self) -> float: ...


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    jitter_fraction: float,
    rng: RandomSource,
) -> float:
    """Seconds to wait before running ``attempt``; attempt 1 is not a retry and waits 0.

    The nominal delay is ``base`` for attempt 2 and doubles per attempt up to ``cap``.
    Jitter removes up to ``jitter_fraction`` of it, so tasks that failed together (a
    registry outage) spread out, and the result never exceeds ``cap``.
    """
    if base < 0 or cap < 0:
        raise ValueError("base and cap must be non-negative")
    if not 0.0 <= jitter_fraction <= 1.0:
        raise ValueError("jitter_fraction must be within [0, 1]")
    if attempt <= 1:
        return 0.0
    nominal = min(cap, base * 2.0 ** min(attempt - 2, _MAX_EXPONENT))
    return nominal * (1.0 - jitter_fraction * rng.random())
