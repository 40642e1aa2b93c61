"""The gateway's small Redis keys: rate-limit counters, idempotent answers, cancel flags.

Redis library errors are translated here (and in ``queue``) into DependencyUnavailable.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import redis.asyncio as redis
from pydantic import BaseModel, ConfigDict, ValidationError

from packguard.common.api import SubmitOutcome
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
