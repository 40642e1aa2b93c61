"""StreamConsumer against real Redis: order, ack, reclaim, dead-letter, heartbeat."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
import redis.asyncio as redis

from packguard.common.messages import DeadLetter, TaskEvent, TaskMessage, decode_message
from packguard.common.streams import ConsumerOptions, Delivery, Reply, StreamConsumer, publish

pytestmark = pytest.mark.integration

HIGH, LOW, DEAD, OUT = "test:high", "test:low", "test:dead", "test:out"


def _task(priority: int = 0) -> TaskMessage:
    return TaskMessage(
        task_id=uuid4(), purl="pkg:pypi/six@1.16.0", priority=priority, created_at=datetime.now(UTC)
    )


def _consumer(
    client: redis.Redis, handler, *, name: str = "c1", on_dead_letter=None, **options: object
) -> StreamConsumer[TaskMessage]:
    return StreamConsumer(
        client,
        streams=[HIGH, LOW],
        group="g",
        consumer=name,
        model=TaskMessage,
        handler=handler,
        dead_letter_stream=DEAD,
        options=ConsumerOptions(**options),  # type: ignore[arg-type]
        on_dead_letter=on_dead_letter,
    )


async def test_consumer_takes_the_priority_stream_first_and_trims_acked(
    redis_client: redis.Redis,
) -> None:
    low = [_task() for _ in range(3)]
    high = [_task(9) for _ in range(2)]
    for task in low:
        await publish(redis_client, LOW, task)
    for task in high:
        await publish(redis_client, HIGH, task)
    seen: list[UUID] = []

    async def handler(task: TaskMessage, _: Delivery) -> None:
        seen.append(task.task_id)

    await _consumer(redis_client, handler).run(drain=True)
    assert seen == [t.task_id for t in high + low]
    assert await redis_client.xlen(HIGH) == await redis_client.xlen(LOW) == 0


async def test_failed_handler_leaves_message_pending_for_redelivery(
    redis_client: redis.Redis,
) -> None:
    task = _task()
    await publish(redis_client, LOW, task)
    attempts: list[int] = []

    async def flaky(message: TaskMessage, delivery: Delivery) -> None:
        attempts.append(delivery.deliveries)
        if len(attempts) == 1:
            raise RuntimeError("transient")

    await _consumer(redis_client, flaky, claim_idle_ms=50).run(drain=True)
    assert attempts == [1, 2]
    assert (await redis_client.xpending(LOW, "g"))["pending"] == 0


async def test_message_of_a_dead_consumer_is_reclaimed_by_another(
    redis_client: redis.Redis,
) -> None:
    task = _task()
    await publish(redis_client, LOW, task)
    started = asyncio.Event()

    async def dies(message: TaskMessage, _: Delivery) -> None:
        started.set()
        await asyncio.sleep(3600)

    doomed = _consumer(redis_client, dies, name="doomed", claim_idle_ms=300)
    run = asyncio.create_task(doomed.run())
    await started.wait()
    run.cancel()  # the process "dies": no ack, no more heartbeats
    await asyncio.gather(run, return_exceptions=True)

    handled: list[UUID] = []

    async def finishes(message: TaskMessage, _: Delivery) -> None:
        handled.append(message.task_id)

    survivor = _consumer(redis_client, finishes, name="survivor", claim_idle_ms=300)
    deadline = asyncio.get_running_loop().time() + 10
    while not handled and asyncio.get_running_loop().time() < deadline:
        await survivor.run(drain=True)
    assert handled == [task.task_id]


async def test_poison_message_is_dead_lettered_after_max_deliveries(
    redis_client: redis.Redis,
) -> None:
    task = _task()
    await publish(redis_client, LOW, task)
    letters: list[DeadLetter] = []

    async def always_fails(message: TaskMessage, _: Delivery) -> None:
        raise RuntimeError("poison")

    async def record(letter: DeadLetter) -> None:
        letters.append(letter)

    consumer = _consumer(
        redis_client, always_fails, claim_idle_ms=20, max_deliveries=2, on_dead_letter=record
    )
    deadline = asyncio.get_running_loop().time() + 10
    while not letters and asyncio.get_running_loop().time() < deadline:
        await consumer.run(drain=True)
    assert len(letters) == 1 and letters[0].deliveries == 3
    assert await redis_client.xlen(DEAD) == 1
    assert (await redis_client.xpending(LOW, "g"))["pending"] == 0


async def test_malformed_entry_is_dead_lettered_without_calling_the_handler(
    redis_client: redis.Redis,
) -> None:
    await redis_client.xadd(LOW, {"data": b"{not json"})
    called: list[TaskMessage] = []

    async def handler(message: TaskMessage, _: Delivery) -> None:
        called.append(message)

    await _consumer(redis_client, handler).run(drain=True)
    assert called == []
    assert await redis_client.xlen(DEAD) == 1


async def test_long_handler_keeps_its_claim_while_running(redis_client: redis.Redis) -> None:
    await publish(redis_client, LOW, _task())
    release = asyncio.Event()
    runs: list[str] = []

    async def slow(message: TaskMessage, _: Delivery) -> None:
        runs.append("slow")
        await release.wait()

    async def thief(message: TaskMessage, _: Delivery) -> None:
        runs.append("thief")

    owner = _consumer(redis_client, slow, name="owner", claim_idle_ms=300)
    owner_run = asyncio.create_task(owner.run())
    while not runs:
        await asyncio.sleep(0.01)
    other = _consumer(redis_client, thief, name="other", claim_idle_ms=300)
    for _ in range(5):  # well past claim_idle_ms in total
        await other.run(drain=True)
        await asyncio.sleep(0.2)
    release.set()
    owner.stop()
    await owner_run
    assert runs == ["slow"]


async def test_concurrency_bounds_messages_in_hand(redis_client: redis.Redis) -> None:
    for _ in range(6):
        await publish(redis_client, LOW, _task())
    active = 0
    peak = 0

    async def handler(message: TaskMessage, _: Delivery) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1

    await _consumer(redis_client, handler, concurrency=2).run(drain=True)
    assert peak == 2


async def test_reclaim_never_hands_a_message_in_hand_to_a_second_handler(
    redis_client: redis.Redis,
) -> None:
    await publish(redis_client, LOW, _task())
    calls = 0

    async def slow(message: TaskMessage, _: Delivery) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)

    # claim_idle_ms=0 makes every reclaim pass see the message as idle.
    await _consumer(redis_client, slow, claim_idle_ms=0).run(drain=True)
    assert calls == 1


async def _orphan_backlog(client: redis.Redis, count: int) -> None:
    """What an outage leaves: ``count`` messages pending for long, their handlers gone."""
    for _ in range(count):
        await publish(client, LOW, _task())
    await client.xgroup_create(LOW, "g", id="0", mkstream=True)
    response = await client.xreadgroup("g", "crashed", {LOW: ">"}, count=count)
    ids = [message_id for _, messages in response for message_id, _ in messages]
    await client.xclaim(LOW, "g", "crashed", 0, ids, idle=3_600_000, justid=True)


async def _run_until_handled(
    consumer: StreamConsumer[TaskMessage], seen: set[UUID], n: int
) -> None:
    run = asyncio.create_task(consumer.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while len(seen) < n and loop.time() < deadline and not run.done():
        await asyncio.sleep(0.05)
    consumer.stop()
    await run


async def test_backlog_is_reclaimed_as_slots_free_up_not_a_few_per_interval(
    redis_client: redis.Redis,
) -> None:
    await _orphan_backlog(redis_client, 100)
    handled: set[UUID] = set()

    async def handler(message: TaskMessage, _: Delivery) -> None:
        handled.add(message.task_id)

    # A reclaim pass runs every second here; taking `concurrency` (2) messages per pass,
    # the backlog would need 50 of them, far past the 15 s this test waits.
    consumer = _consumer(redis_client, handler, concurrency=2, claim_idle_ms=2000)
    await _run_until_handled(consumer, handled, 100)
    assert len(handled) == 100
    assert (await redis_client.xpending(LOW, "g"))["pending"] == 0


async def test_reclaim_and_read_together_stay_within_concurrency(
    redis_client: redis.Redis,
) -> None:
    await _orphan_backlog(redis_client, 20)
    for _ in range(20):
        await publish(redis_client, LOW, _task())
    handled: set[UUID] = set()
    active = peak = 0

    async def handler(message: TaskMessage, _: Delivery) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        handled.add(message.task_id)

    consumer = _consumer(redis_client, handler, concurrency=2, claim_idle_ms=200)
    await _run_until_handled(consumer, handled, 40)
    assert len(handled) == 40
    assert peak == 2


async def test_replies_are_published_with_the_ack(redis_client: redis.Redis) -> None:
    tasks = [_task() for _ in range(3)]
    for task in tasks:
        await publish(redis_client, LOW, task)

    async def handler(task: TaskMessage, _: Delivery) -> list[Reply]:
        return [Reply(OUT, TaskEvent(task_id=task.task_id, kind="completed"))]

    await _consumer(redis_client, handler).run(drain=True)
    replies = [decode_message(TaskEvent, fields) for _, fields in await redis_client.xrange(OUT)]
    assert [event.task_id for event in replies] == [task.task_id for task in tasks]
    assert await redis_client.xlen(LOW) == 0
    assert (await redis_client.xpending(LOW, "g"))["pending"] == 0


async def test_a_reply_that_cannot_be_written_leaves_its_message_unacked(
    redis_client: redis.Redis,
) -> None:
    await redis_client.set(OUT, "not a stream")  # every XADD to it fails
    await publish(redis_client, LOW, _task())
    calls = 0

    async def handler(task: TaskMessage, _: Delivery) -> list[Reply]:
        nonlocal calls
        calls += 1
        return [Reply(OUT, TaskEvent(task_id=task.task_id, kind="completed"))]

    await _consumer(redis_client, handler).run(drain=True)
    assert calls == 1
    assert (await redis_client.xpending(LOW, "g"))["pending"] == 1
    assert await redis_client.xlen(LOW) == 1


async def test_lower_priority_is_claimed_only_for_slots_the_higher_left_free(
    redis_client: redis.Redis,
) -> None:
    for _ in range(5):
        await publish(redis_client, LOW, _task())
    for _ in range(2):
        await publish(redis_client, HIGH, _task(9))
    started: list[int] = []
    release = asyncio.Event()

    async def handler(task: TaskMessage, _: Delivery) -> None:
        started.append(task.priority)
        await release.wait()

    consumer = _consumer(redis_client, handler, concurrency=3)
    run = asyncio.create_task(consumer.run())
    async with asyncio.timeout(10):
        while len(started) < 3:
            await asyncio.sleep(0.01)
    assert sorted(started) == [0, 9, 9]
    assert (await redis_client.xpending(LOW, "g"))["pending"] == 1
    consumer.stop()
    release.set()
    await run
    assert await redis_client.xlen(LOW) == 4


async def test_a_quiet_stream_is_read_again_without_the_batch_wait(
    redis_client: redis.Redis,
) -> None:
    # A wait this long would time the test out if a one-message read were followed by it.
    seen: list[UUID] = []

    async def handler(task: TaskMessage, _: Delivery) -> None:
        seen.append(task.task_id)

    consumer = _consumer(redis_client, handler, concurrency=4, batch_wait_ms=600_000)
    running = asyncio.create_task(consumer.run())
    try:
        for expected in range(1, 4):
            await publish(redis_client, LOW, _task())
            async with asyncio.timeout(20):
                while len(seen) < expected:
                    await asyncio.sleep(0.01)
    finally:
        consumer.stop()
        await asyncio.wait_for(running, timeout=20)
    assert len(seen) == 3
