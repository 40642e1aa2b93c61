"""The request path's shared reads and counters, each coalesced per event-loop tick."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import redis.asyncio as redis

from packguard.gateway.apikeys import KeyAuthenticator
from packguard.gateway.rate_limit import WINDOW_SECONDS
from packguard.gateway.redis_state import RequestCounter
from packguard.gateway.tasks import TaskLookup


@dataclass(frozen=True, slots=True)
class RequestLookups:
    keys: KeyAuthenticator
    rate_counter: RequestCounter
    tasks: TaskLookup

    @classmethod
    def create(cls, pool: asyncpg.Pool, redis_client: redis.Redis) -> RequestLookups:
        return cls(
            keys=KeyAuthenticator(pool),
            # A window's counter outlives its window a little, then expires.
            rate_counter=RequestCounter(redis_client, ttl_seconds=WINDOW_SECONDS + 5),
            tasks=TaskLookup(pool),
        )
