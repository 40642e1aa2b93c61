"""The ready streams and the delayed set, moved only through the scripts in common.lua."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import redis.asyncio as redis

from packguard.common import keys, lua
from packguard.common.coalescing import Coalescer
from packguard.common.messages import TaskMessage, encode_message
from packguard.scheduler.priority import QueueTarget


@dataclass(frozen=True, slots=True)
class QueueNames:
    priority_stream: str
    ready_stream: str
    delayed_zset: str
    delayed_payload_hash: str
    delayed_target_hash: str

    def stream_for(self, target: QueueTarget) -> str:
        return self.priority_stream if target is QueueTarget.PRIORITY else self.ready_stream

    @staticmethod
    def counter_for(stream: str) -> str:
        return f"{stream}{keys.SEQUENCE_SUFFIX}"


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """A task's entry on a ready stream: ``seq`` numbers the entries ever enqueued there."""

    task_id: UUID
    stream: str
    seq: int


class TaskQueues:
    """Registers the Lua scripts once for ``client`` and runs them with the right keys."""

    def __init__(self, client: redis.Redis, names: QueueNames) -> None:
        self._client = client
        self._names = names
        self._schedule_delayed = client.register_script(lua.SCHEDULE_DELAYED)
        self._release_due = client.register_script(lua.RELEASE_DUE)
        self._enqueues: Coalescer[tuple[QueueTarget, TaskMessage], QueuePosition | Exception] = (
            Coalescer(self._enqueue_batch)
        )

    @property
    def names(self) -> QueueNames:
        return self._names

    async def enqueue_ready(self, target: QueueTarget, message: TaskMessage) -> QueuePosition:
        """Append to the target stream; the enqueues of one tick share a pipeline."""
        position = await self._enqueues((target, message))
        if isinstance(position, Exception):
            raise position  # this one failed; the others of its pipeline stand
        return position

    async def _enqueue_batch(
        self, items: Sequence[tuple[QueueTarget, TaskMessage]]
    ) -> list[QueuePosition | Exception]:
        streams = [self._names.stream_for(target) for target, _ in items]
        async with self._client.pipeline(transaction=False) as pipe:
            for stream, (_, message) in zip(streams, items, strict=True):
                # EVAL, not EVALSHA: nothing to reload after a Redis restart, and Redis
                # keeps the compiled script by its digest anyway.
                pipe.eval(
                    lua.ENQUEUE_READY, 2, stream, self._names.counter_for(stream), _payload(message)
                )
            seqs = await pipe.execute(raise_on_error=False)
        return [
            seq if isinstance(seq, Exception) else QueuePosition(message.task_id, stream, int(seq))
            for stream, (_, message), seq in zip(streams, items, seqs, strict=True)
        ]

    async def schedule_delayed(
        self, target: QueueTarget, message: TaskMessage, release_at: datetime
    ) -> None:
        """Idempotent: scheduling a task again replaces its release time and payload."""
        await self._schedule_delayed(
            keys=self._delayed_keys(),
            args=[str(message.task_id), _epoch_ms(release_at), _payload(message), target.value],
        )

    async def is_scheduled(self, task_id: UUID) -> bool:
        return await self._client.zscore(self._names.delayed_zset, str(task_id)) is not None

    async def release_due(self, now: datetime, limit: int) -> list[QueuePosition]:
        """Move up to ``limit`` due tasks, earliest first, to their ready streams atomically."""
        names = self._names
        released: Sequence[Any] = await self._release_due(
            keys=[
                *self._delayed_keys(),
                names.priority_stream,
                names.counter_for(names.priority_stream),
                names.ready_stream,
                names.counter_for(names.ready_stream),
            ],
            args=[_epoch_ms(now), limit],
        )
        positions = []
        for task_id, target, seq in released:
            is_priority = target is not None and _text(target) == QueueTarget.PRIORITY.value
            stream = names.priority_stream if is_priority else names.ready_stream
            positions.append(QueuePosition(UUID(_text(task_id)), stream, int(seq)))
        return positions

    def _delayed_keys(self) -> list[str]:
        names = self._names
        return [names.delayed_zset, names.delayed_payload_hash, names.delayed_target_hash]


def _payload(message: TaskMessage) -> bytes:
    fields = encode_message(message)
    if "data" not in fields:
        # Task messages are a few hundred bytes; compressed ones cannot go through the
        # Lua scripts, which write a plain ``data`` field.
        raise ValueError("task message too large for a ready stream")
    return fields["data"]


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
