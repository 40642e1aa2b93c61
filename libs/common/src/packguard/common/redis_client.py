"""Redis client creation and readiness."""

from __future__ import annotations

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from packguard.common.errors import DependencyUnavailable


def create_redis(url: str) -> redis.Redis:
    # Retries ride out a Redis restart (AOF keeps the data) without failing handlers.
    # The asyncio Retry: the sync one's call_with_retry returns the coroutine unawaited,
    # so its try/except never sees the error and nothing is ever retried.
    retry = Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=8)
    return redis.Redis.from_url(
        url,
        retry=retry,
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionResetError],
        health_check_interval=30,
        socket_connect_timeout=5,
        # Longer than any blocking read we issue (XREADGROUP BLOCK ~1 s), so a lost
        # reply surfaces as an error instead of a coroutine waiting forever.
        socket_timeout=30,
    )


async def ping(client: redis.Redis) -> None:
    """Raise DependencyUnavailable unless Redis answers (a service's connect step)."""
    try:
        await client.ping()
    except (redis.RedisError, OSError) as exc:
        raise DependencyUnavailable(f"redis unavailable: {exc}") from exc


async def is_redis_ready(client: redis.Redis) -> bool:
    try:
        return bool(await client.ping())
    except (redis.RedisError, OSError):
        return False
