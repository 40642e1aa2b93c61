"""Cluster-wide per-ecosystem caps: a lease per running task in a Redis ZSET."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

import redis.asyncio as redis

from packguard.common import keys, lua


class EcosystemSlots:
    def __init__(self, client: redis.Redis, caps: dict[str, int], *, lease_seconds: int) -> None:
        self._client = client
        self._caps = caps
        self._lease_ms = lease_seconds * 1000
        self._acquire = client.register_script(lua.ACQUIRE_SLOT)

    async def acquire(self, ecosystem: str, task_id: UUID, *, poll_seconds: float = 1.0) -> None:
        """Wait for a slot (no cap configured: return at once); also renews a held one."""
        cap = self._caps.get(ecosystem)
        if cap is None:
            return
        while True:
            now = int(time.time() * 1000)
            granted = await self._acquire(
                keys=[keys.SLOTS_KEY_PREFIX + ecosystem],
                args=[str(task_id), now, now + self._lease_ms, cap],
            )
            if granted:
                return
            await asyncio.sleep(poll_seconds)

    async def release(self, ecosystem: str, task_id: UUID) -> None:
        if ecosystem in self._caps:
            await self._client.zrem(keys.SLOTS_KEY_PREFIX + ecosystem, str(task_id))
