"""How many runners the queue needs: the original service's scaling rule.

``queued`` counts tasks on the ready and priority streams that are waiting (the runners
group's lag) plus those delivered to a runner and not yet acknowledged (its pending
entries, i.e. running). Delayed tasks are not counted until released. So 0 means nothing
waits and nothing runs, and only then is the answer 0 (scale to zero).

Results are integers rounded up (a started group of ten tasks gets its runner), which
keeps the rule monotonic: 9 → 1, 10 → 1, 11 → 2, 49 → 5, 50 → 10, 199 → 40, 200 → 100.
"""

from __future__ import annotations

MAX_REPLICAS = 1000


def desired_replicas(queued: int, *, max_replicas: int = MAX_REPLICAS) -> int:
    """``<10 → 1, <50 → q/10, <200 → q/5, else q/2``; 0 when idle; at most ``max_replicas``."""
    if queued <= 0:
        return 0
    if queued < 10:
        wanted = 1
    elif queued < 50:
        wanted = _ceil_div(queued, 10)
    elif queued < 200:
        wanted = _ceil_div(queued, 5)
    else:
        wanted = _ceil_div(queued, 2)
    return min(wanted, max_replicas)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)
