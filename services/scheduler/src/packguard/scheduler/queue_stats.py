"""A point-in-time reading of the streams, the delayed set and the ecosystem slots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis.asyncio as redis
from redis.exceptions import ResponseError


@dataclass(frozen=True, slots=True)
class StreamStats:
    length: int
    lag: int
    """Entries not yet delivered to the group."""
    pending: int
    """Entries delivered and not acknowledged (in hand: for runners, running)."""
    oldest_waiting_ms: int | None = None
    """Enqueue time (epoch ms, from the entry id) of the oldest undelivered entry."""


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    streams: dict[str, StreamStats]
    delayed: int
    dead_letter: int
    slots_in_use: dict[str, int] = field(default_factory=dict)

    def queued(self, streams: Iterable[str]) -> int:
        """Waiting plus running tasks on ``streams``: the input of ``desired_replicas``."""
        return sum(self.streams[s].lag + self.streams[s].pending for s in streams)

    def oldest_waiting_seconds(self, streams: Iterable[str], now: datetime) -> float:
        """Age of the oldest task still waiting on ``streams``; 0 when none waits."""
        stamps = [
            stats.oldest_waiting_ms
            for stats in (self.streams[s] for s in streams)
            if stats.oldest_waiting_ms is not None
        ]
        if not stamps:
            return 0.0
        return max(0.0, now.timestamp() - min(stamps) / 1000)


async def read_stream_stats(client: redis.Redis, stream: str, group: str) -> StreamStats:
    length = int(await client.xlen(stream))
    info = await _group_info(client, stream, group)
    if info is None:
        # No consumer has joined yet: everything on the stream is waiting.
        first = await client.xrange(stream, "-", "+", count=1)
        return StreamStats(length, length, 0, _entry_ms(first))
    pending = int(info["pending"])
    lag = info.get("lag")
    # Redis reports no lag once entries were deleted past the group's position; acked
    # entries are deleted (ConsumerOptions.delete_acked), so the rest are pending or waiting.
    waiting = int(lag) if lag is not None else max(0, length - pending)
    after = await client.xrange(stream, f"({_text(info['last-delivered-id'])}", "+", count=1)
    return StreamStats(length, waiting, pending, _entry_ms(after))


async def read_slots_in_use(
    client: redis.Redis, key_prefix: str, ecosystems: Iterable[str], now: datetime
) -> dict[str, int]:
    """Unexpired ``lua.ACQUIRE_SLOT`` leases per ecosystem."""
    now_ms = int(now.timestamp() * 1000)
    return {
        eco: int(await client.zcount(f"{key_prefix}{eco}", f"({now_ms}", "+inf"))
        for eco in ecosystems
    }


async def _group_info(client: redis.Redis, stream: str, group: str) -> dict[str, Any] | None:
    try:
        groups: list[dict[str, Any]] = await client.xinfo_groups(stream)
    except ResponseError:
        return None  # no such stream yet
    for info in groups:
        if _text(info["name"]) == group:
            return info
    return None


def _entry_ms(entries: list[Any] | None) -> int | None:
    if not entries:
        return None
    return int(_text(entries[0][0]).split("-", 1)[0])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
