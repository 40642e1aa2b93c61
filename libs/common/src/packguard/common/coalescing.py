"""Coalescing: the calls that concurrent tasks make in one event-loop tick go out as one
round trip (one ``id = ANY($1)`` query, one ``unnest`` UPDATE, one Redis pipeline).

A round trip costs the caller and the server a wake-up and two system calls, much more
than the few bytes it carries; sharing it is how the gateway answers many requests and
the workers handle many messages at once without changing what each one sees. Every
caller gets its own, current answer: nothing is cached between ticks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Loader = Callable[[Sequence[K]], Awaitable[Sequence[V]]]
"""One answer per key, in order; a key may appear more than once (each call counts)."""


class Coalescer(Generic[K, V]):
    """``await coalescer(key)`` from many tasks in one tick → one ``load(keys)`` call.

    A failing load fails every caller of its batch with the same exception.
    """

    def __init__(self, load: Loader[K, V], *, max_batch: int = 256) -> None:
        self._load = load
        self._max_batch = max_batch
        self._waiting: list[tuple[K, asyncio.Future[V]]] = []
        self._flushing: set[asyncio.Task[None]] = set()
        self._scheduled = False

    async def __call__(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = loop.create_future()
        self._waiting.append((key, future))
        if len(self._waiting) >= self._max_batch:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        if not self._waiting:
            return
        batch, self._waiting = self._waiting, []
        task = asyncio.get_running_loop().create_task(self._answer(batch))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _answer(self, batch: list[tuple[K, asyncio.Future[V]]]) -> None:
        try:
            values = await self._load([key for key, _ in batch])
            if len(values) != len(batch):
                raise RuntimeError(f"loader answered {len(values)} of {len(batch)} keys")
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), value in zip(batch, values, strict=True):
            if not future.done():
                future.set_result(value)
