"""Control-plane throughput: tasks/s through every service with the no-op backend.

    .venv/bin/python -m bench.control_plane [--tasks 2000] [--runners 1,2,4]

Gateway → scheduler → runner (ANALYSIS_BACKEND=noop) → reporter, all as processes on a
fresh loopback Redis/PostgreSQL/S3. In the same run, the ceiling: a bare redis-py loop
doing the same three stream hops (XADD, XREADGROUP, XACK) with no work. Prints a table
and writes bench/results/control_plane.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import redis.asyncio as redis

from packguard.common.db import apply_migrations, create_pool
from packguard.devstack import connection_env, start_stack, stop_stack
from tests.e2e.processes import Pipeline, create_api_key

REPO = Path(__file__).resolve().parent.parent
CONCURRENCY = 64


async def _submit_all(url: str, key: str, purls: list[str]) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for purl in purls:
        queue.put_nowait(purl)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                purl = queue.get_nowait()
                async with session.post(
                    f"{url}/api/v1/analyze/", json={"purl": purl}, headers={"X-API-Key": key}
                ) as response:
                    assert response.status == 202, await response.text()

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def _wait_completed(pool: asyncpg.Pool, count: int, limit_seconds: float) -> None:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        done = await pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'completed'")
        if done >= count:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"only {done}/{count} tasks completed")


async def _pipeline_run(
    env: dict[str, str], root: Path, runners: int, tasks: int
) -> dict[str, Any]:
    pool = await create_pool(env["DATABASE_URL"], max_size=2)
    await apply_migrations(pool)
    await pool.execute("TRUNCATE findings, results, tasks CASCADE")
    key = create_api_key(env["DATABASE_URL"], "bench", rate_limit=10_000_000)
    pipeline = Pipeline(
        base_env={
            **env,
            "ANALYSIS_BACKEND": "noop",
            "LOG_LEVEL": "WARNING",
            "WORKER_CONCURRENCY": "8",
        },
        log_dir=root,
    )
    await pipeline.start(runners=runners)
    try:
        purls = [f"pkg:npm/bench-{runners}-{i}@1.0.0" for i in range(tasks)]
        started = time.monotonic()
        await _submit_all(pipeline.gateway_url, key, purls)
        submitted = time.monotonic()
        await _wait_completed(pool, tasks, limit_seconds=600)
        elapsed = time.monotonic() - started
        latency = await pool.fetchrow(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) AS p50,"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY d) AS p99 FROM"
            " (SELECT extract(epoch FROM finished_at - created_at) AS d FROM tasks) s"
        )
    finally:
        await pipeline.stop()
        await pool.close()
    return {
        "system": f"packguard, {runners} runner(s)",
        "tasks": tasks,
        "seconds": round(elapsed, 2),
        "tasks_per_second": round(tasks / elapsed, 1),
        "submit_per_second": round(tasks / (submitted - started), 1),
        "p50_ms": round(latency["p50"] * 1000, 1),
        "p99_ms": round(latency["p99"] * 1000, 1),
    }


async def _ceiling(redis_url: str, tasks: int) -> dict[str, Any]:
    """Three stream hops per task with XREADGROUP/XACK and nothing else."""
    client = redis.Redis.from_url(redis_url)
    hops = ["ceiling:submitted", "ceiling:ready", "ceiling:events"]
    for stream in hops:
        await client.delete(stream)
        await client.xgroup_create(stream, "g", id="0", mkstream=True)

    async def relay(source: str, target: str | None) -> None:
        moved = 0
        while moved < tasks:
            response = await client.xreadgroup("g", "c", {source: ">"}, count=100, block=1000)
            for _, messages in response or []:
                async with client.pipeline(transaction=False) as pipe:
                    for message_id, fields in messages:
                        if target:
                            pipe.xadd(target, fields)
                        pipe.xack(source, "g", message_id)
                        pipe.xdel(source, message_id)
                    await pipe.execute()
                moved += len(messages)

    started = time.monotonic()
    relays = [
        asyncio.create_task(relay(a, b)) for a, b in zip(hops, [*hops[1:], None], strict=True)
    ]
    for i in range(tasks):
        await client.xadd(hops[0], {"data": json.dumps({"task": i})})
    await asyncio.gather(*relays)
    elapsed = time.monotonic() - started
    await client.aclose()
    return {
        "system": "ceiling: bare redis-py hops",
        "tasks": tasks,
        "seconds": round(elapsed, 2),
        "tasks_per_second": round(tasks / elapsed, 1),
    }


async def main(tasks: int, runner_counts: list[int]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="packguard-cp-") as scratch:
        root = Path(scratch)
        stack = await start_stack(root / "stack", free_ports=True, with_docker=False)
        try:
            env = connection_env(stack)
            results = [await _ceiling(env["REDIS_URL"], tasks)]
            for runners in runner_counts:
                results.append(await _pipeline_run(env, root, runners, tasks))
        finally:
            await stop_stack(stack.state_dir, purge=True)
    return results


def _print(results: list[dict[str, Any]]) -> None:
    ceiling = results[0]["tasks_per_second"]
    print(
        f"{'system':<30} {'tasks':>6} {'tasks/s':>8} {'of ceiling':>10} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for row in results:
        print(
            f"{row['system']:<30} {row['tasks']:>6} {row['tasks_per_second']:>8} "
            f"{row['tasks_per_second'] / ceiling:>9.1%} {row.get('p50_ms', '-'):>8} "
            f"{row.get('p99_ms', '-'):>8}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--runners", default="1,2,4")
    args = parser.parse_args()
    outcome = asyncio.run(main(args.tasks, [int(n) for n in args.runners.split(",")]))
    _print(outcome)
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "control_plane.json").write_text(json.dumps(outcome, indent=2))
