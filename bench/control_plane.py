"""Control-plane throughput: tasks/s through every service with the no-op backend,
against the ceiling and the peer measured in the same run.

    .venv/bin/python -m bench.control_plane [--tasks 2000] [--runners 1,2,4] [--profile DIR]

For each runner count, on one fresh loopback Redis/PostgreSQL/S3:

- ceiling: a bare redis-py loop doing the same three stream hops (XADD, XREADGROUP,
  XACK) with no work, with that many consumers on the middle hop;
- packguard: ``--tasks`` POSTs at concurrency 64 through gateway → scheduler → runner
  (ANALYSIS_BACKEND=noop, WORKER_CONCURRENCY=8) → reporter, all as processes, until
  every task is ``completed`` in PostgreSQL;
- celery: Celery on the same Redis, prefork concurrency = runners, each task storing a
  result row in the same PostgreSQL.

Latency is submit → recorded (the row's last update), measured twice: in the throughput
run, where it is mostly the backlog of 2,000 tasks submitted at once, and in a paced run
(``--paced-tasks`` at ``--paced-rate`` per second, open loop, below every system's
capacity), where it is the time a task takes through an unloaded pipeline. Prints a
table with the RSS of each service idle and at its peak under load, and writes
bench/results/control_plane.json.
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

from bench.celery_peer import QUANTILES, CeleryPeer, Pacing, latency_quantiles
from bench.http_load import run_load
from bench.pacing import paced
from bench.polling import wait_for_count
from bench.process_stats import snapshot, watched
from bench.profiling import py_spy
from packguard.common.db import apply_migrations, create_pool
from packguard.devstack import RunningStack, connection_env, start_stack, stop_stack
from tests.e2e.processes import Pipeline, create_api_key

REPO = Path(__file__).resolve().parent.parent
CONCURRENCY = 64
RUNNER_CONCURRENCY = "8"


_LATENCY = """
SELECT percentile_cont($2::float8[]) WITHIN GROUP (ORDER BY d) AS quantiles
FROM (SELECT extract(epoch FROM updated_at - created_at) AS d FROM tasks
      WHERE purl LIKE $1 || '%') s
"""


async def _wait_completed(pool: asyncpg.Pool, prefix: str, count: int) -> None:
    query = "SELECT count(*) FROM tasks WHERE status = 'completed' AND purl LIKE $1 || '%'"
    await wait_for_count(
        pool, query, prefix, count=count, limit_seconds=600, what="tasks completed"
    )


async def _latency_ms(pool: asyncpg.Pool, prefix: str) -> dict[str, float]:
    return latency_quantiles(await pool.fetchval(_LATENCY, prefix, list(QUANTILES)))


async def _submit_paced(url: str, key: str, prefix: str, pacing: Pacing) -> None:
    async with aiohttp.ClientSession(url, headers={"X-API-Key": key}) as session:

        async def submit(index: int) -> None:
            body = {"purl": f"{prefix}{index}@1.0.0"}
            async with session.post("/api/v1/analyze/", json=body) as response:
                if response.status != 202:
                    raise RuntimeError(f"paced submit answered {response.status}")

        await paced(submit, count=pacing.tasks, rate=pacing.rate)


def _server_pids(stack: RunningStack) -> dict[str, int]:
    """The servers' CPU counts too: every hop costs Redis and PostgreSQL work."""
    return {name: record.pid for name, record in stack.components.items()}


async def _packguard(
    env: dict[str, str],
    servers: dict[str, int],
    root: Path,
    runners: int,
    tasks: int,
    pacing: Pacing,
    profile: Path | None,
) -> dict[str, Any]:
    pool = await create_pool(env["DATABASE_URL"], max_size=2)
    await apply_migrations(pool)
    await pool.execute("TRUNCATE findings, results, tasks CASCADE")
    key = create_api_key(env["DATABASE_URL"], "bench", rate_limit=10_000_000)
    pipeline = Pipeline(
        base_env={**env, "ANALYSIS_BACKEND": "noop", "WORKER_CONCURRENCY": RUNNER_CONCURRENCY},
        log_dir=root / f"logs-{runners}",
    )
    pipeline.log_dir.mkdir(parents=True, exist_ok=True)
    await pipeline.start(runners=runners)
    try:
        pids = {s.name: s.process.pid for s in pipeline.services if s.process is not None}
        idle = snapshot(pids)
        prefix = f"pkg:npm/bench-{runners}-"
        purls = [f"{prefix}{i}@1.0.0" for i in range(tasks)]
        started = time.monotonic()
        profiled = py_spy(pids, profile and profile / f"r{runners}")
        async with watched({**pids, **servers}) as usage, profiled:
            submitted = await run_load(
                "submit",
                pipeline.gateway_url,
                {"X-API-Key": key},
                lambda i: ("POST", "/api/v1/analyze/", json.dumps({"purl": purls[i]}).encode()),
                count=tasks,
                concurrency=CONCURRENCY,
                time_limit=600,
            )
            assert submitted.statuses[202] == tasks, submitted.statuses
            await _wait_completed(pool, prefix, tasks)
            elapsed = time.monotonic() - started
        latency = await _latency_ms(pool, prefix)
        paced_prefix = f"pkg:npm/paced-{runners}-"
        await _submit_paced(pipeline.gateway_url, key, paced_prefix, pacing)
        await _wait_completed(pool, paced_prefix, pacing.tasks)
        paced = await _latency_ms(pool, paced_prefix)
    finally:
        await pipeline.stop()
        await pool.close()
    return {
        "seconds": round(elapsed, 2),
        "tasks_per_second": round(tasks / elapsed, 1),
        "submit_per_second": round(tasks / submitted.seconds, 1),
        "p50_ms": latency["p50"],
        "p99_ms": latency["p99"],
        **pacing.summary(paced),
        "rss_idle_mib": idle,
        "rss_peak_mib": {name: usage.peak_rss_mib[name] for name in idle},
        "cpu_ms_per_task": usage.cpu_ms_per(tasks),
    }


async def _ceiling(redis_url: str, tasks: int, consumers: int) -> dict[str, Any]:
    """Three stream hops per task with XREADGROUP/XACK and nothing else."""
    client = redis.Redis.from_url(redis_url)
    hops = ["ceiling:submitted", "ceiling:ready", "ceiling:events"]
    for stream in hops:
        await client.delete(stream)
        await client.xgroup_create(stream, "g", id="0", mkstream=True)
    moved = dict.fromkeys(hops, 0)

    async def relay(source: str, target: str | None, consumer: str) -> None:
        while moved[source] < tasks:
            response = await client.xreadgroup("g", consumer, {source: ">"}, count=100, block=100)
            for _, messages in response or []:
                async with client.pipeline(transaction=False) as pipe:
                    for message_id, fields in messages:
                        if target:
                            pipe.xadd(target, fields)
                        pipe.xack(source, "g", message_id)
                        pipe.xdel(source, message_id)
                    await pipe.execute()
                moved[source] += len(messages)

    started = time.monotonic()
    relays = [asyncio.create_task(relay(hops[0], hops[1], "c"))]
    relays += [asyncio.create_task(relay(hops[1], hops[2], f"c{i}")) for i in range(consumers)]
    relays.append(asyncio.create_task(relay(hops[2], None, "c")))
    for i in range(tasks):
        await client.xadd(hops[0], {"data": json.dumps({"task": i})})
    await asyncio.gather(*relays)
    elapsed = time.monotonic() - started
    await client.aclose()
    return {"seconds": round(elapsed, 2), "tasks_per_second": round(tasks / elapsed, 1)}


async def _celery(
    env: dict[str, str],
    servers: dict[str, int],
    root: Path,
    workers: int,
    tasks: int,
    pacing: Pacing,
) -> dict[str, Any]:
    peer = CeleryPeer(env, workers, root / f"celery-{workers}.log")
    await peer.start()
    try:
        pids = {"celery": peer.pid}
        idle = snapshot(pids)
        async with watched({**pids, **servers}) as usage:
            row = await peer.measure(tasks)
        row.update(await peer.measure_paced(pacing))
    finally:
        await peer.stop()
    return {
        **row,
        "rss_idle_mib": idle,
        "rss_peak_mib": {name: usage.peak_rss_mib[name] for name in idle},
        "cpu_ms_per_task": usage.cpu_ms_per(tasks),
    }


async def main(
    tasks: int,
    runner_counts: list[int],
    systems: list[str],
    pacing: Pacing,
    profile: Path | None,
) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="packguard-cp-") as scratch:
        root = Path(scratch)
        stack = await start_stack(root / "stack", free_ports=True, with_docker=False)
        try:
            env = connection_env(stack)
            servers = _server_pids(stack)
            for runners in runner_counts:
                ceiling = await _ceiling(env["REDIS_URL"], tasks, runners)
                results.append({"system": "ceiling", "runners": runners, "tasks": tasks, **ceiling})
                if "packguard" in systems:
                    row = await _packguard(env, servers, root, runners, tasks, pacing, profile)
                    results.append(
                        {"system": "packguard", "runners": runners, "tasks": tasks, **row}
                    )
                if "celery" in systems:
                    row = await _celery(env, servers, root, runners, tasks, pacing)
                    results.append({"system": "celery", "runners": runners, "tasks": tasks, **row})
                for row in results:
                    if row["runners"] == runners:
                        row["of_ceiling"] = round(
                            row["tasks_per_second"] / ceiling["tasks_per_second"], 3
                        )
        finally:
            await stop_stack(stack.state_dir, purge=True)
    return results


def _print(results: list[dict[str, Any]]) -> None:
    print(
        f"{'system':<10} {'runners':>7} {'tasks':>6} {'tasks/s':>8} {'of ceiling':>10} "
        f"{'POST/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'paced p50':>9} {'paced p99':>9}"
    )
    for row in results:
        print(
            f"{row['system']:<10} {row['runners']:>7} {row['tasks']:>6} "
            f"{row['tasks_per_second']:>8} {row['of_ceiling']:>10.1%} "
            f"{row.get('submit_per_second', '-'):>7} {row.get('p50_ms', '-'):>8} "
            f"{row.get('p99_ms', '-'):>8} {row.get('paced_p50_ms', '-'):>9} "
            f"{row.get('paced_p99_ms', '-'):>9}"
        )
    print("\nCPU ms per task, per process (servers included), and in all")
    for row in results:
        if "cpu_ms_per_task" in row:
            cpu = row["cpu_ms_per_task"]
            parts = ", ".join(f"{name} {ms:.2f}" for name, ms in cpu.items())
            print(f"{row['system']:<10} {row['runners']:>7}  all {sum(cpu.values()):.2f}: {parts}")
    print("\nRSS MiB of each service, idle → peak under load")
    for row in results:
        if "rss_idle_mib" in row:
            parts = ", ".join(
                f"{name} {row['rss_idle_mib'][name]:.0f}→{row['rss_peak_mib'][name]:.0f}"
                for name in row["rss_idle_mib"]
            )
            print(f"{row['system']:<10} {row['runners']:>7}  {parts}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--runners", default="1,2,4")
    parser.add_argument("--systems", default="packguard,celery", help="besides the ceiling")
    parser.add_argument("--paced-tasks", type=int, default=300)
    parser.add_argument("--paced-rate", type=float, default=50.0, help="tasks/s, open loop")
    parser.add_argument("--profile", type=Path, help="write py-spy profiles of each service here")
    args = parser.parse_args()
    outcome = asyncio.run(
        main(
            args.tasks,
            [int(n) for n in args.runners.split(",")],
            args.systems.split(","),
            Pacing(args.paced_tasks, args.paced_rate),
            args.profile,
        )
    )
    _print(outcome)
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "control_plane.json").write_text(json.dumps(outcome, indent=2) + "\n")
