"""The task streams as the gateway sees them: publish, live position, queue depth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from redis.exceptions import ResponseError

from packguard.common.api import StreamStatus
from packguard.common.messages import TaskMessage
from packguard.common.streams import BatchedPublisher, publish
from packguard.gateway.queue_position import entry_age_seconds, queue_position
from packguard.gateway.redis_state import translated_redis_errors


@dataclass(frozen=True, slots=True)
class GroupInfo:
    pending: int
    entries_read: int | None
    lag: int | None
    last_delivered_id: str


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


async def publish_task(client: redis.Redis, stream: str, message: TaskMessage) -> str:
    with translated_redis_errors():
        return await publish(client, stream, message)


class TaskPublisher:
    """``publish_task`` for the request path: the tasks created in one event-loop tick
    go out in one pipeline of XADDs (each still its own stream entry)."""

    def __init__(self, client: redis.Redis, stream: str) -> None:
        self._stream = stream
        self._publisher = BatchedPublisher(client)

    async def publish(self, message: TaskMessage) -> str:
        with translated_redis_errors():
            return await self._publisher.publish(self._stream, message)


async def group_info(client: redis.Redis, stream: str, group: str) -> GroupInfo | None:
    """The group's read state on ``stream``; None when the stream or the group is missing."""
    with translated_redis_errors():
        try:
            groups: Any = await client.xinfo_groups(stream)
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                return None
            raise
    for entry in groups:
        if _text(entry["name"]) == group:
            last_delivered_id = _text(entry["last-delivered-id"])
            entries_read = _optional_int(entry.get("entries-read"))
            if entries_read is None and last_delivered_id == "0-0":
                entries_read = 0  # a group that has read nothing yet reports nil
            return GroupInfo(
                pending=int(entry["pending"]),
                entries_read=entries_read,
                lag=_optional_int(entry.get("lag")),
                last_delivered_id=last_delivered_id,
            )
    return None


async def _waiting(client: redis.Redis, stream: str, group: str) -> int:
    """Entries of ``stream`` the group has not read yet."""
    info = await group_info(client, stream, group)
    if info is not None and info.lag is not None:
        return info.lag
    with translated_redis_errors():
        return int(await client.xlen(stream))


async def _entries_read(client: redis.Redis, stream: str, group: str, counter: str) -> int | None:
    """How many entries of ``stream`` the group has read, counting from its first."""
    info = await group_info(client, stream, group)
    if info is None:
        return 0
    if info.entries_read is not None or info.lag is None:
        return info.entries_read
    # Redis could not keep the count (e.g. after deletions): entries ever added minus lag.
    with translated_redis_errors():
        added: Any = await client.get(counter)
    return None if added is None else int(added) - info.lag


async def live_position(
    client: redis.Redis,
    *,
    stream: str,
    counter: str,
    seq: int,
    group: str,
    ahead_streams: list[str],
) -> int | None:
    """Position of entry number ``seq`` of ``stream`` (numbered by ``counter``), counting
    what waits on ``ahead_streams``, which are served first."""
    entries_read = await _entries_read(client, stream, group, counter)
    ahead = 0
    for other in ahead_streams:
        ahead += await _waiting(client, other, group)
    return queue_position(seq=seq, entries_read=entries_read, waiting_ahead=ahead)


async def stream_status(client: redis.Redis, stream: str, group: str, now_ms: int) -> StreamStatus:
    info = await group_info(client, stream, group)
    with translated_redis_errors():
        length = int(await client.xlen(stream))
        start = "-" if info is None else f"({info.last_delivered_id}"
        oldest: Any = await client.xrange(stream, min=start, max="+", count=1)
    lag = length if info is None else info.lag
    return StreamStatus(
        stream=stream,
        group=group,
        length=length,
        pending=0 if info is None else info.pending,
        lag=lag,
        oldest_waiting_age_seconds=entry_age_seconds(_text(oldest[0][0]), now_ms)
        if oldest
        else None,
    )


async def delayed_count(client: redis.Redis, delayed_zset: str) -> int:
    with translated_redis_errors():
        return int(await client.zcard(delayed_zset))
