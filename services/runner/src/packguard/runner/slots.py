"""Cluster-wide per-ecosystem caps: a lease per running task in a Redis ZSET.

The scheduler reports the same ZSETs as gauges; a runner that dies stops renewing and
its lease expires, so a crash never leaks a slot for longer than one lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from uuid import UUID

import redis.asyncio as redis

from packguard.common import keys, lua
from packguard.common.caps import concurrency_cap


class EcosystemSlots:
    def __init__(
        self,
        client: redis.Redis,
        caps: Mapping[str, int],
        *,
        lease_seconds: float,
        poll_seconds: float = 1.0,
    ) -> None:
        self._client = client
        self._caps = caps
        self._lease_ms = int(lease_seconds * 1000)
        self._poll_seconds = poll_seconds
        self._acquire = client.register_script(lua.ACQUIRE_SLOT)

    @contextlib.asynccontextmanager
    async def held(self, ecosystem: str, task_id: UUID) -> AsyncIterator[None]:
        """Wait for a slot, keep renewing it while the block runs, then give it back."""
        cap = concurrency_cap(self._caps, ecosystem)
        if cap is None:
            yield
            return
        # The slot frees in another process: nothing local to wait on, so poll Redis.
        while not await self._try_acquire(ecosystem, task_id, cap):  # noqa: ASYNC110
            await asyncio.sleep(self._poll_seconds)
        renewal = asyncio.create_task(self._renew(ecosystem, task_id, cap))
        try:
            yield
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            await self._client.zrem(self._key(ecosystem), str(task_id))

    async def _renew(self, ecosystem: str, task_id: UUID, cap: int) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            with contextlib.suppress(redis.RedisError):
                await self._try_acquire(ecosystem, task_id, cap)

    async def _try_acquire(self, ecosystem: str, task_id: UUID, cap: int) -> bool:
        now_ms = int(time.time() * 1000)
        granted = await self._acquire(
            keys=[self._key(ecosystem)],
            args=[str(task_id), now_ms, now_ms + self._lease_ms, cap],
        )
        return bool(granted)

    @staticmethod
    def _key(ecosystem: str) -> str:
        return keys.SLOTS_KEY_PREFIX + ecosystem
