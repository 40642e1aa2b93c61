"""Tasks per second through the whole pipeline with real analyses, at 1 and N runners.

    .venv/bin/python -m bench.pipeline_throughput [--tasks 24] [--runners 1,4]

Everything runs on loopback: a fixture registry serves small generated sdists, the
four services run as processes against a fresh Redis/PostgreSQL/S3 and the Docker
engine. The 1-runner run is the baseline the others are compared against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.sandbox_stack import sandbox_stack
from tests.e2e.processes import Pipeline, create_api_key
from tests.fixtures.packages import pypi_sdist

REPO = Path(__file__).resolve().parent.parent


async def _measure(pipeline: Pipeline, key: str, purls: list[str]) -> dict[str, float]:
    headers = {"X-API-Key": key}
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        ids = []
        for purl in purls:
            async with session.post(
                f"{pipeline.gateway_url}/api/v1/analyze/", json={"purl": purl}, headers=headers
            ) as response:
                assert response.status == 202, await response.text()
                ids.append((await response.json())["data"]["task_id"])
        pending = set(ids)
        latencies = []
        while pending:
            for task_id in list(pending):
                async with session.get(
                    f"{pipeline.gateway_url}/api/v1/task/{task_id}/", headers=headers
                ) as response:
                    data = (await response.json())["data"]
                if data["status"] in ("completed", "failed", "cancelled"):
                    assert data["status"] == "completed", data
                    pending.discard(task_id)
                    latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "tasks": len(ids),
        "seconds": elapsed,
        "tasks_per_second": len(ids) / elapsed,
        "p50_completion_s": latencies[len(latencies) // 2],
    }


async def main(tasks: int, runner_counts: list[int]) -> list[dict[str, float]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="packguard-bench-") as scratch:
        root = Path(scratch)
        async with sandbox_stack(root) as stack:
            key = create_api_key(stack.env["DATABASE_URL"], "bench", rate_limit=100_000)
            for runners in runner_counts:
                purls = []
                for i in range(tasks):
                    version = f"{runners}.0.{i}"
                    stack.registry.add_pypi("bench-pkg", pypi_sdist("bench-pkg", version))
                    purls.append(f"pkg:pypi/bench-pkg@{version}")
                pipeline = Pipeline(base_env=stack.env, log_dir=root)
                await pipeline.start(runners=runners)
                try:
                    results.append({"runners": runners, **await _measure(pipeline, key, purls)})
                finally:
                    await pipeline.stop()
    return results


def _print(results: list[dict[str, float]]) -> None:
    baseline = results[0]["tasks_per_second"]
    print(f"{'runners':>7} {'tasks':>5} {'seconds':>8} {'tasks/s':>8} {'p50 s':>6} {'vs 1st':>6}")
    for row in results:
        print(
            f"{row['runners']:>7} {row['tasks']:>5} {row['seconds']:>8.1f} "
            f"{row['tasks_per_second']:>8.2f} {row['p50_completion_s']:>6.1f} "
            f"{row['tasks_per_second'] / baseline:>5.2f}x"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=24)
    parser.add_argument("--runners", default="1,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.runners.split(",")]
    outcome = asyncio.run(main(args.tasks, counts))
    _print(outcome)
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "pipeline_throughput.json").write_text(json.dumps(outcome, indent=2))
