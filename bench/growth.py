"""How the control plane's Redis operations and memory grow with the backlog.

    .venv/bin/python -m bench.growth [--sizes 10000,100000,1000000] [--samples 300]

On a fresh loopback Redis (the devstack's), for each backlog size N: N tasks wait on the
ready stream (enqueued through the scheduler's own Lua script, unread by the runners'
group) and N more wait in the delayed set (through its own script). Then it times, with
the code the services run, the operations every task pays for:

- enqueue: ``TaskQueues.enqueue_ready`` (the scheduler's accept step);
- delay: ``TaskQueues.schedule_delayed``;
- release: ``TaskQueues.release_due`` when nothing is due (the scheduler's tick);
- claim: XREADGROUP of one entry + XACK + XDEL (what a runner's consumer does);
- position: the gateway's ``live_position`` of the newest entry (GET /task/{id}/);
- depth: the gateway's ``group_info`` (GET /queue/status/ and the scaler's metric);

and Redis ``used_memory``. Last, it checks that acknowledged entries are trimmed: a
StreamConsumer drains a stream of 10,000 tasks and the stream must end empty, its memory
back to the empty stream's. Prints a table and writes bench/results/growth.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import redis.asyncio as redis

from packguard.common import keys, lua
from packguard.common.messages import TaskMessage, encode_message
from packguard.common.streams import ConsumerOptions, Delivery, StreamConsumer, ensure_group
from packguard.devstack import connection_env, start_stack, stop_stack
from packguard.gateway.queue import group_info, live_position
from packguard.scheduler.priority import QueueTarget
from packguard.scheduler.queues import QueueNames, TaskQueues

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "growth.json"
GROUP = keys.RUNNERS_GROUP
FILL_BATCH = 2000
TRIM_CHECK_TASKS = 10_000
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)

NAMES = QueueNames(
    priority_stream="growth:priority",
    ready_stream="growth:ready",
    delayed_zset="growth:delayed",
    delayed_payload_hash="growth:delayed:payload",
    delayed_target_hash="growth:delayed:target",
)


def _task() -> TaskMessage:
    """A message as large as a real one: a purl, timestamps and a trace context."""
    return TaskMessage(
        task_id=uuid4(),
        purl=f"pkg:npm/growth-{uuid4().hex[:12]}@1.0.0",
        created_at=datetime.now(UTC),
        ecosystem="npm",
        trace_context={"traceparent": f"00-{uuid4().hex}-{uuid4().hex[:16]}-01"},
    )


async def _fill(client: redis.Redis, count: int) -> None:
    """``count`` more tasks on the ready stream and in the delayed set, via the scripts."""
    ready = client.register_script(lua.ENQUEUE_READY)
    delayed = client.register_script(lua.SCHEDULE_DELAYED)
    release_ms = int(FAR_FUTURE.timestamp() * 1000)
    stream = NAMES.ready_stream
    done = 0
    while done < count:
        batch = min(FILL_BATCH, count - done)
        async with client.pipeline(transaction=False) as pipe:
            for _ in range(batch):
                message = _task()
                payload = encode_message(message)["data"]
                await ready(keys=[stream, NAMES.counter_for(stream)], args=[payload], client=pipe)
                await delayed(
                    keys=[
                        NAMES.delayed_zset,
                        NAMES.delayed_payload_hash,
                        NAMES.delayed_target_hash,
                    ],
                    args=[str(message.task_id), release_ms, payload, QueueTarget.READY.value],
                    client=pipe,
                )
            await pipe.execute()
        done += batch


async def _timed(samples: int, operation: Callable[[], Awaitable[object]]) -> dict[str, float]:
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        await operation()
        durations.append((time.perf_counter() - started) * 1000)
    durations.sort()
    return {
        "p50_ms": round(statistics.median(durations), 3),
        "p99_ms": round(durations[int(len(durations) * 0.99) - 1], 3),
    }


async def _measure(client: redis.Redis, queues: TaskQueues, samples: int) -> dict[str, Any]:
    stream = NAMES.ready_stream
    claim_stream = "growth:claim"  # claimed from a stream of the same length, then refilled

    async def enqueue() -> None:
        await queues.enqueue_ready(QueueTarget.READY, _task())

    async def delay() -> None:
        await queues.schedule_delayed(QueueTarget.READY, _task(), FAR_FUTURE)

    async def release() -> None:
        await queues.release_due(datetime.now(UTC) - timedelta(days=1), 100)

    async def claim() -> None:
        response: Any = await client.xreadgroup(GROUP, "bench", {claim_stream: ">"}, count=1)
        for _, entries in response:
            for entry_id, _fields in entries:
                async with client.pipeline(transaction=False) as pipe:
                    pipe.xack(claim_stream, GROUP, entry_id)
                    pipe.xdel(claim_stream, entry_id)
                    await pipe.execute()

    newest = int(await client.get(NAMES.counter_for(stream)) or 0)

    async def position() -> None:
        await live_position(
            client,
            stream=stream,
            counter=NAMES.counter_for(stream),
            seq=newest,
            group=GROUP,
            ahead_streams=[NAMES.priority_stream],
        )

    async def depth() -> None:
        await group_info(client, stream, GROUP)

    # The claim stream mirrors the backlog: copy the ready stream's length in entries.
    await client.delete(claim_stream)
    length = int(await client.xlen(stream))
    await _copy_entries(client, stream, claim_stream, length)
    await ensure_group(client, claim_stream, GROUP)
    memory: Any = await client.info("memory")
    result = {
        "ready_stream_entries": length,
        "delayed_entries": int(await client.zcard(NAMES.delayed_zset)),
        "used_memory_mib": round(int(memory["used_memory"]) / 2**20, 1),
        "enqueue": await _timed(samples, enqueue),
        "delay": await _timed(samples, delay),
        "release": await _timed(samples, release),
        "claim": await _timed(samples, claim),
        "position": await _timed(samples, position),
        "depth": await _timed(samples, depth),
    }
    await client.delete(claim_stream)
    return result


async def _copy_entries(client: redis.Redis, source: str, target: str, count: int) -> None:
    last = "-"
    copied = 0
    while copied < count:
        entries: Any = await client.xrange(source, min=last, count=FILL_BATCH + 1)
        entries = [e for e in entries if e[0] != last] if last != "-" else entries
        if not entries:
            break
        async with client.pipeline(transaction=False) as pipe:
            for _, fields in entries:
                pipe.xadd(target, fields)
            await pipe.execute()
        copied += len(entries)
        last = entries[-1][0]


async def _trim_check(client: redis.Redis) -> dict[str, Any]:
    """A real StreamConsumer drains TRIM_CHECK_TASKS; the stream must end empty."""
    stream = "growth:trim"
    await client.delete(stream)
    await ensure_group(client, stream, GROUP)
    empty_bytes = int(await client.memory_usage(stream) or 0)
    messages = [_task() for _ in range(TRIM_CHECK_TASKS)]
    async with client.pipeline(transaction=False) as pipe:
        for message in messages:
            pipe.xadd(stream, encode_message(message))  # type: ignore[arg-type]
        await pipe.execute()
    full_bytes = int(await client.memory_usage(stream) or 0)

    async def handle(_message: TaskMessage, _delivery: Delivery) -> None:
        return None

    consumer = StreamConsumer(
        client,
        streams=[stream],
        group=GROUP,
        consumer="trim-check",
        model=TaskMessage,
        handler=handle,
        dead_letter_stream="growth:dead",
        options=ConsumerOptions(block_ms=50),
    )
    started = time.monotonic()
    await consumer.run(drain=True)
    seconds = time.monotonic() - started
    return {
        "tasks": TRIM_CHECK_TASKS,
        "drain_seconds": round(seconds, 2),
        "stream_bytes_full": full_bytes,
        "stream_bytes_after": int(await client.memory_usage(stream) or 0),
        "stream_bytes_empty": empty_bytes,
        "entries_after": int(await client.xlen(stream)),
        "pending_after": int((await client.xpending(stream, GROUP))["pending"]),
    }


async def run(sizes: list[int], samples: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="packguard-bench-growth-"))
    stack = await start_stack(root / "state", with_docker=False)
    client = redis.Redis.from_url(connection_env(stack)["REDIS_URL"])
    try:
        queues = TaskQueues(client, NAMES)
        await ensure_group(client, NAMES.ready_stream, GROUP)
        await ensure_group(client, NAMES.priority_stream, GROUP)
        rows = [{"backlog": 0, **await _measure(client, queues, samples)}]
        filled = int(await client.xlen(NAMES.ready_stream))
        for size in sizes:
            started = time.monotonic()
            await _fill(client, size - filled)
            fill_seconds = time.monotonic() - started
            filled = int(await client.xlen(NAMES.ready_stream))
            row = {"backlog": size, "fill_seconds": round(fill_seconds, 1)}
            rows.append(row | await _measure(client, queues, samples))
            print_row(rows[-1])
        return {"rows": rows, "trim_check": await _trim_check(client)}
    finally:
        await client.aclose()
        await stop_stack(root / "state", purge=True)


OPERATIONS = ("enqueue", "delay", "release", "claim", "position", "depth")


def print_row(row: dict[str, Any]) -> None:
    cells = " ".join(f"{row[op]['p50_ms']:>6.3f}/{row[op]['p99_ms']:<7.3f}" for op in OPERATIONS)
    print(f"{row['backlog']:>9} {row['used_memory_mib']:>9.1f} {cells}", flush=True)


def print_table(result: dict[str, Any]) -> None:
    print()
    header = " ".join(f"{op:>14}" for op in OPERATIONS)
    print(f"{'backlog':>9} {'Redis MiB':>9} {header}")
    print(f"{'':>9} {'':>9} " + " ".join(f"{'p50/p99 ms':>14}" for _ in OPERATIONS))
    for row in result["rows"]:
        print_row(row)
    trim = result["trim_check"]
    print(
        f"\ntrim: {trim['tasks']} tasks drained by a StreamConsumer in {trim['drain_seconds']} s;"
        f" stream {trim['stream_bytes_full']} bytes full -> {trim['stream_bytes_after']} after"
        f" ({trim['stream_bytes_empty']} empty), {trim['entries_after']} entries and"
        f" {trim['pending_after']} pending left"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    result = asyncio.run(run(sizes, args.samples))
    print_table(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
