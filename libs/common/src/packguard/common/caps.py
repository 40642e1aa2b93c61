"""Per-ecosystem concurrency caps (``ECOSYSTEM_CONCURRENCY``), looked up one way everywhere."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_CAP_KEY = "*"
"""An ``ECOSYSTEM_CONCURRENCY`` entry under this key caps every ecosystem not listed."""


def concurrency_cap(caps: Mapping[str, int], ecosystem: str) -> int | None:
    """The most tasks of ``ecosystem`` that may run at once; None when it is uncapped.

    Keys are matched case-insensitively; 0 pauses an ecosystem (no slot is ever free).
    """
    wanted = ecosystem.lower()
    for key, cap in caps.items():
        if key.lower() == wanted:
            return cap
    return caps.get(DEFAULT_CAP_KEY)
