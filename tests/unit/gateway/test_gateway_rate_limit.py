"""Rate-limit arithmetic: a fixed window per key."""

from __future__ import annotations

import pytest

from packguard.gateway.rate_limit import (
    RateLimitDecision,
    rate_limit_decision,
    rate_limit_headers,
    window_index,
)


@pytest.mark.parametrize(
    ("now", "window", "index"),
    [(0.0, 60, 0), (59.999, 60, 0), (60.0, 60, 1), (1_700_000_030.5, 60, 28_333_333)],
)
def test_window_index_counts_whole_windows(now: float, window: int, index: int) -> None:
    assert window_index(now, window) == index


@pytest.mark.parametrize(
    ("count", "limit", "now", "expected"),
    [
        (1, 3, 120.0, RateLimitDecision(limit=3, remaining=2, reset_seconds=60, is_allowed=True)),
        (3, 3, 150.2, RateLimitDecision(limit=3, remaining=0, reset_seconds=30, is_allowed=True)),
        (4, 3, 150.2, RateLimitDecision(limit=3, remaining=0, reset_seconds=30, is_allowed=False)),
        (90, 3, 179.9, RateLimitDecision(limit=3, remaining=0, reset_seconds=1, is_allowed=False)),
        (1, 1, 179.99, RateLimitDecision(limit=1, remaining=0, reset_seconds=1, is_allowed=True)),
    ],
)
def test_rate_limit_decision_table(
    count: int, limit: int, now: float, expected: RateLimitDecision
) -> None:
    assert rate_limit_decision(count=count, limit=limit, now=now, window_seconds=60) == expected


def test_rate_limit_headers_when_allowed_have_no_retry_after() -> None:
    decision = RateLimitDecision(limit=10, remaining=4, reset_seconds=12, is_allowed=True)

    assert rate_limit_headers(decision) == {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset": "12",
    }


def test_rate_limit_headers_when_refused_add_retry_after() -> None:
    decision = RateLimitDecision(limit=10, remaining=0, reset_seconds=7, is_allowed=False)

    assert rate_limit_headers(decision)["Retry-After"] == "7"
