"""A StreamConsumer outlives a Redis outage longer than the client's own retries."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from structlog.testing import capture_logs

from packguard.common.messages import TaskMessage
from packguard.common.redis_client import create_redis
from packguard.common.streams import ConsumerOptions, Delivery, StreamConsumer, publish
from packguard.devstack import (
    RunningStack,
    connection_env,
    start_server,
    stop_server,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STREAM = "test:outage"
DEADLINE_SECONDS = 60.0


async def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"never saw: {what}"
        await asyncio.sleep(0.05)


def _task() -> TaskMessage:
    return TaskMessage(
        task_id=uuid4(), purl="pkg:npm/left-pad@1.3.0", priority=0, created_at=datetime.now(UTC)
    )


async def test_the_consumer_waits_out_a_long_redis_outage_and_reads_on(
    outage_stack: RunningStack,
) -> None:
    client = create_redis(connection_env(outage_stack)["REDIS_URL"])
    seen: list[UUID] = []

    async def handler(task: TaskMessage, _: Delivery) -> None:
        seen.append(task.task_id)

    consumer = StreamConsumer(
        client,
        streams=[STREAM],
        group="g",
        consumer="c1",
        model=TaskMessage,
        handler=handler,
        dead_letter_stream="test:outage-dead",
        options=ConsumerOptions(concurrency=2, block_ms=200),
    )
    with capture_logs() as logs:
        running = asyncio.create_task(consumer.run())
        try:
            before = _task()
            await publish(client, STREAM, before)
            await _until(lambda: before.task_id in seen, "the message before the outage")

            await stop_server("redis", outage_stack.state_dir)
            # The client's retries (about 9 s) run out and the read loop meets the error.
            await _until(
                lambda: any(e["event"] == "stream_read_failed" for e in logs),
                "the read loop meeting the outage",
            )
            assert not running.done(), "the consumer ended with the outage"

            await start_server("redis", outage_stack.state_dir)
            after = _task()
            await publish(client, STREAM, after)
            await _until(lambda: after.task_id in seen, "the message after the outage")
        finally:
            consumer.stop()
            await asyncio.wait_for(running, timeout=DEADLINE_SECONDS)
            await client.aclose()
    events = [e["event"] for e in logs]
    assert events.count("stream_read_failed") == 1  # one warning per outage
    assert "stream_read_resumed" in events
