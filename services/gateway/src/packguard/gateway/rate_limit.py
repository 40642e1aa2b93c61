"""Per-key rate limit arithmetic (pure): a fixed window counted in Redis.

Each key may make ``limit`` requests per window; the counter for the current window is
``<prefix><key id>:<window index>``. The headers follow the usual ``X-RateLimit-*``
convention, ``X-RateLimit-Reset`` being the seconds until the window ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    limit: int
    remaining: int
    reset_seconds: int
    """Seconds until the current window ends and the count starts again."""
    is_allowed: bool


def window_index(now: float, window_seconds: int = WINDOW_SECONDS) -> int:
    return math.floor(now / window_seconds)


def rate_limit_decision(
    *, count: int, limit: int, now: float, window_seconds: int = WINDOW_SECONDS
) -> RateLimitDecision:
    """Decide on the ``count``-th request of the window containing ``now``."""
    window_end = (window_index(now, window_seconds) + 1) * window_seconds
    reset = max(1, math.ceil(window_end - now))
    return RateLimitDecision(
        limit=limit,
        remaining=max(0, limit - count),
        reset_seconds=reset,
        is_allowed=count <= limit,
    )


def rate_limit_headers(decision: RateLimitDecision) -> dict[str, str]:
    headers = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset_seconds),
    }
    if not decision.is_allowed:
        headers["Retry-After"] = str(decision.reset_seconds)
    return headers
