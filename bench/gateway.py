"""Gateway throughput and latency: one gateway process on loopback, concurrency 64.

    .venv/bin/python -m bench.gateway [--count 4000] [--time-limit 60] [--profile DIR]

Phases, each bounded by ``--count`` requests and ``--time-limit`` seconds:
``POST /api/v1/analyze/`` with new purls (202), the same purls again while they are in
flight (200 deduplicated), and ``GET /api/v1/task/{id}/`` on the tasks just made. Only
the gateway runs (no scheduler), so every task stays pending and each dedup hit is
real. In the same run, the baseline: a bare aiohttp process (bench.bare_http) under the
same POST and GET load. Prints a table with the gateway's CPU milliseconds per request
(steadier than rates on a shared machine) and RSS idle and under each load, and writes
bench/results/gateway.json. Also per phase: the p99 bucket of the gateway's own latency
histogram (without the load generator's queueing) and the machine's load average.
Targets: >= 2,000 GET/s, >= 1,000 POST/s, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bench.http_load import LoadResult, RequestSpec, run_load
from bench.process_stats import snapshot, watched
from bench.profiling import py_spy
from packguard.common.db import apply_migrations, create_pool
from packguard.devstack import connection_env, start_stack, stop_stack
from tests.e2e.processes import ServiceProcess, create_api_key, free_port

REPO = Path(__file__).resolve().parent.parent
CONCURRENCY = 64
TARGETS = {
    "bare_post": 0.0,
    "bare_get": 0.0,
    "post_new": 1000.0,
    "post_dedup": 1000.0,
    "get_task": 2000.0,
}
P99_TARGET_MS = 50.0


def _body(purl: str) -> bytes:
    return json.dumps({"purl": purl}).encode()


async def _latency_buckets(url: str) -> dict[float, float]:
    """The gateway's own latency histogram, all series summed: cumulative count per bound."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as response:
        text = await response.text()
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "packguard_gateway_http_request_duration_seconds":
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    bound = float(sample.labels["le"])
                    buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return buckets


def _server_quantile_ms(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """Upper bound (ms) of the histogram bucket holding the q-quantile of one phase: what
    the gateway itself measured, without the load generator's own queueing."""
    total = after.get(float("inf"), 0.0) - before.get(float("inf"), 0.0)
    for bound in sorted(after):
        if total and after[bound] - before.get(bound, 0.0) >= q * total:
            return bound * 1000
    return 0.0


async def _phases(
    url: str, key: str, count: int, time_limit: float, gateway_pid: int, profile: Path | None
) -> list[dict[str, Any]]:
    headers = {"X-API-Key": key}
    pids = {"gateway": gateway_pid}
    rows: list[dict[str, Any]] = []

    async def phase(
        name: str, make: Callable[[int], RequestSpec], expected: set[int], keep: bool = False
    ) -> LoadResult:
        before = await _latency_buckets(url)
        async with watched(pids) as usage, py_spy(pids, profile and profile / name):
            result = await run_load(
                name,
                url,
                headers,
                make,
                count=count,
                concurrency=CONCURRENCY,
                time_limit=time_limit,
                keep_bodies=keep,
            )
        after = await _latency_buckets(url)
        row = result.summary(expected=expected)
        row["server_p99_ms_at_most"] = _server_quantile_ms(before, after, 0.99)
        row["cpu_ms_per_request"] = usage.cpu_ms_per(result.requests)["gateway"]
        row["cpu_system_share"] = usage.system_share()["gateway"]
        row["rss_mib"] = usage.peak_rss_mib["gateway"]
        rows.append(row)
        return result

    # Warm-up: connections, prepared statements, the first key lookup.
    await run_load(
        "warmup",
        url,
        headers,
        lambda i: ("POST", "/api/v1/analyze/", _body(f"pkg:npm/gw-warm-{i}@1.0.0")),
        count=200,
        concurrency=CONCURRENCY,
        time_limit=time_limit,
    )
    created = await phase(
        "post_new",
        lambda i: ("POST", "/api/v1/analyze/", _body(f"pkg:npm/gw-bench-{i}@1.0.0")),
        {202},
        keep=True,
    )
    made = max(1, created.statuses[202])
    await phase(
        "post_dedup",
        lambda i: ("POST", "/api/v1/analyze/", _body(f"pkg:npm/gw-bench-{i % made}@1.0.0")),
        {200},
    )
    ids = [json.loads(body)["data"]["task_id"] for body in created.bodies if b'"task_id"' in body]
    await phase("get_task", lambda i: ("GET", f"/api/v1/task/{ids[i % len(ids)]}/", None), {200})
    return rows


async def _bare(root: Path, count: int, time_limit: float) -> list[dict[str, Any]]:
    """The same POST and GET load on a process that does nothing but answer."""
    port = free_port()
    bare = ServiceProcess(
        "bare",
        "bench.bare_http",
        {"PYTHONPATH": str(REPO), "PORT": str(port)},
        root / "bare.log",
        f"http://127.0.0.1:{port}/health/",
    )
    await bare.start()
    rows = []
    try:
        await bare.wait_healthy()
        assert bare.process is not None
        pids = {"gateway": bare.process.pid}
        body = _body("pkg:npm/bare@1.0.0")
        for name, spec in (
            ("bare_post", ("POST", "/api/v1/analyze/", body)),
            ("bare_get", ("GET", "/api/v1/task/x/", None)),
        ):
            async with watched(pids) as usage:
                result = await run_load(
                    name,
                    f"http://127.0.0.1:{port}",
                    {},
                    lambda i, spec=spec: spec,
                    count=count,
                    concurrency=CONCURRENCY,
                    time_limit=time_limit,
                )
            row = result.summary(expected={200})
            row["cpu_ms_per_request"] = usage.cpu_ms_per(result.requests)["gateway"]
            row["cpu_system_share"] = usage.system_share()["gateway"]
            row["rss_mib"] = usage.peak_rss_mib["gateway"]
            rows.append(row)
    finally:
        await bare.stop()
    return rows


async def main(count: int, time_limit: float, profile: Path | None) -> dict[str, Any]:
    # A shared machine: the 1-minute load average says how far to trust the rates.
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="packguard-gw-") as scratch:
        root = Path(scratch)
        stack = await start_stack(root / "stack", free_ports=True, with_docker=False)
        try:
            env = connection_env(stack)
            pool = await create_pool(env["DATABASE_URL"], max_size=2)
            await apply_migrations(pool)
            await pool.close()
            key = create_api_key(env["DATABASE_URL"], "bench", rate_limit=10_000_000)
            # The load generator's own full collections (50-130 ms over this process's
            # heap) would otherwise show up in the p99 of whatever server it measures.
            gc.collect()
            gc.freeze()
            bare = await _bare(root, count, time_limit)
            port = free_port()
            gateway = ServiceProcess(
                "gateway",
                "packguard.gateway",
                {**env, "PORT": str(port), "LOG_LEVEL": "INFO"},
                root / "gateway.log",
                f"http://127.0.0.1:{port}/health/",
            )
            await gateway.start()
            try:
                await gateway.wait_ready()
                assert gateway.process is not None
                pid = gateway.process.pid
                idle = snapshot({"gateway": pid})["gateway"]
                rows = await _phases(
                    f"http://127.0.0.1:{port}", key, count, time_limit, pid, profile
                )
            finally:
                await gateway.stop()
        finally:
            await stop_stack(stack.state_dir, purge=True)
    return {
        "concurrency": CONCURRENCY,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "gateway_idle_rss_mib": idle,
        "phases": bare + rows,
    }


def _print(outcome: dict[str, Any]) -> None:
    print(f"one gateway process, concurrency {outcome['concurrency']}; bare_* = bare aiohttp")
    print(
        f"{'phase':<11} {'requests':>8} {'req/s':>7} {'target':>6} {'of bare':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'srv p99':>7} {'CPU ms/req':>10} {'sys':>4} "
        f"{'bad':>4} {'RSS MiB':>7}"
    )
    bare = {row["phase"]: row["requests_per_second"] for row in outcome["phases"]}
    for row in outcome["phases"]:
        baseline = bare["bare_get" if "get" in row["phase"] else "bare_post"]
        server_p99 = row.get("server_p99_ms_at_most")
        print(
            f"{row['phase']:<11} {row['requests']:>8} {row['requests_per_second']:>7} "
            f"{TARGETS[row['phase']]:>6.0f} {row['requests_per_second'] / baseline:>7.1%} "
            f"{row['p50_ms']:>7} {row['p99_ms']:>7} "
            f"{'' if server_p99 is None else f'<={server_p99:g}':>7} "
            f"{row['cpu_ms_per_request']:>10} {row['cpu_system_share']:>4.0%} "
            f"{row['unexpected_responses']:>4} {row['rss_mib']:>7}"
        )
    print(
        f"gateway RSS idle: {outcome['gateway_idle_rss_mib']} MiB; p99 target {P99_TARGET_MS} ms;"
        " srv p99: the gateway's own histogram bucket (no client queueing);"
        f" load average before/after: {outcome['load_average']}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000, help="requests per phase at most")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per phase at most")
    parser.add_argument("--profile", type=Path, help="write py-spy profiles of the gateway here")
    args = parser.parse_args()
    outcome = asyncio.run(main(args.count, args.time_limit, args.profile))
    _print(outcome)
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "gateway.json").write_text(json.dumps(outcome, indent=2) + "\n")
