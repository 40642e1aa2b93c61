"""Coalescer: calls made in one event-loop tick share one load (pure, no sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from packguard.common.coalescing import Coalescer


class Recorder:
    def __init__(self, *, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail = fail

    async def load(self, keys: Sequence[int]) -> list[int]:
        self.batches.append(list(keys))
        if self.fail:
            raise LookupError("backend down")
        return [key * 10 for key in keys]


async def test_coalescer_calls_in_one_tick_share_one_load_in_order() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.load)

    answers = await asyncio.gather(*(coalescer(key) for key in (3, 1, 2)))

    assert answers == [30, 10, 20]
    assert recorder.batches == [[3, 1, 2]]


async def test_coalescer_equal_keys_each_count() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.load)

    answers = await asyncio.gather(coalescer(7), coalescer(7))

    assert answers == [70, 70]
    assert recorder.batches == [[7, 7]]


async def test_coalescer_later_ticks_get_their_own_load() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.load)

    first = await coalescer(1)
    second = await coalescer(2)

    assert (first, second) == (10, 20)
    assert recorder.batches == [[1], [2]]


async def test_coalescer_splits_batches_at_max_batch() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.load, max_batch=2)

    answers = await asyncio.gather(*(coalescer(key) for key in range(5)))

    assert answers == [0, 10, 20, 30, 40]
    assert [len(batch) for batch in recorder.batches] == [2, 2, 1]


async def test_coalescer_failed_load_fails_every_caller_of_the_batch() -> None:
    coalescer = Coalescer(Recorder(fail=True).load)

    results = await asyncio.gather(coalescer(1), coalescer(2), return_exceptions=True)

    assert all(isinstance(result, LookupError) for result in results)


async def test_coalescer_loader_answering_too_few_is_an_error() -> None:
    async def short(keys: Sequence[int]) -> list[int]:
        return [1]

    coalescer = Coalescer(short)

    with pytest.raises(RuntimeError, match="answered 1 of 2"):
        await asyncio.gather(coalescer(1), coalescer(2))


async def test_coalescer_a_cancelled_caller_leaves_the_others_answered() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.load)
    doomed = asyncio.create_task(coalescer(1))
    kept = asyncio.create_task(coalescer(2))
    await asyncio.sleep(0)
    doomed.cancel()

    assert await kept == 20
    assert doomed.cancelled()
