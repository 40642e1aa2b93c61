"""The gateway's small Redis keys: rate-limit counters, idempotent answers, cancel flags.

Redis library errors are translated here (and in ``queue``) into DependencyUnavailable.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import redis.asyncio as redis
from pydantic import BaseModel, ConfigDict, ValidationError

from packguard.common.api import SubmitOutcome
from packguard.common.coalescing import Coalescer
from packguard.common.errors import DependencyUnavailable


@contextlib.contextmanager
def translated_redis_errors() -> Iterator[None]:
    try:
        yield
    except (redis.RedisError, OSError) as exc:
        raise DependencyUnavailable(f"redis unavailable: {exc}") from exc


async def count_request(client: redis.Redis, key: str, *, ttl_seconds: int) -> int:
    """Count one request under ``key`` (a window's counter) and return the new count."""
    with translated_redis_errors():
        async with client.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, ttl_seconds, nx=True)
            count, _ = await pipe.execute()
    return int(count)


class RequestCounter:
    """``count_request`` for the request path: the requests counted in one event-loop
    tick share one pipeline, one INCRBY per counter. The counts are exactly those that
    one INCR per request would give: the n requests of a batch get total-n+1 … total."""

    def __init__(self, client: redis.Redis, *, ttl_seconds: int) -> None:
        self._client = client
        self._ttl_seconds = ttl_seconds
        self._counts: Coalescer[str, int] = Coalescer(self._count)

    async def count(self, key: str) -> int:
        return await self._counts(key)

    async def _count(self, keys: Sequence[str]) -> list[int]:
        batch = Counter(keys)
        with translated_redis_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                for key, n in batch.items():
                    # Created with its expiry first, so a dropped connection can never
                    # leave a counter that lives forever.
                    pipe.set(key, 0, ex=self._ttl_seconds, nx=True)
                    pipe.incrby(key, n)
                replies = await pipe.execute()
        totals = {key: int(replies[2 * i + 1]) for i, key in enumerate(batch)}
        answers = []
        for key in keys:
            batch[key] -= 1
            answers.append(totals[key] - batch[key])
        return answers


async def set_cancel_flag(client: redis.Redis, key: str, *, ttl_seconds: int) -> None:
    with translated_redis_errors():
        await client.set(key, b"1", ex=ttl_seconds)


class IdempotentAnswer(BaseModel):
    """What a submission answered, kept under its idempotency key."""

    model_config = ConfigDict(frozen=True)

    task_id: UUID
    outcome: SubmitOutcome
    purl: str


@dataclass(frozen=True, slots=True)
class IdempotencyStore:
    client: redis.Redis
    prefix: str
    ttl_seconds: int

    def _key(self, api_key_id: UUID, idempotency_key: str) -> str:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
        return f"{self.prefix}{api_key_id}:{digest}"

    async def recall(self, api_key_id: UUID, idempotency_key: str) -> IdempotentAnswer | None:
        with translated_redis_errors():
            raw: Any = await self.client.get(self._key(api_key_id, idempotency_key))
        if raw is None:
            return None
        try:
            return IdempotentAnswer.model_validate_json(raw)
        except ValidationError:
            return None

    async def remember(
        self, api_key_id: UUID, idempotency_key: str, answer: IdempotentAnswer
    ) -> None:
        """Keep the first answer given for this key (a racing second one is dropped)."""
        with translated_redis_errors():
            await self.client.set(
                self._key(api_key_id, idempotency_key),
                answer.model_dump_json(),
                ex=self.ttl_seconds,
                nx=True,
            )
