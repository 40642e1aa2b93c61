"""Real analyses through the whole pipeline, each task's time split by stage.

    .venv/bin/python -m bench.analysis_pipeline [--count 10] [--cache DIR]

Popular packages (``bench.detection``'s cache: a PyPI release's sdist and wheel, an npm
tarball) are served by a loopback registry mirror, and gateway → scheduler → one runner
(the real sandbox backend, default limits) → reporter run as processes on a loopback
Redis/PostgreSQL/S3 and the devstack's container engine. Packages go in one at a time,
each when the one before has finished, so every stage shows the pipeline's own time and
not a backlog (``bench.control_plane`` measures capacity).

Per task, in seconds:

- schedule: created → queued (gateway, submitted stream, scheduler, ready stream);
- queue: queued → the runner's ``running`` event (ready stream, runner pickup);
- fetch: the runner's download and verification of every artifact, read from its
  ``packguard_runner_fetch_duration_seconds`` histogram before and after the task;
- start: fetch done → the analyzer began (workspace, container creation and start);
- static, dynamic: the report's phases (extract + inventory + static; install + import);
- other: the rest of the runner's time (the analyzer's own bookkeeping, teardown,
  reading the report);
- record: the ``completed`` event → the reporter's commit (events stream, the report
  object in S3, the rows in PostgreSQL);
- total: created → recorded.

Prints every task, the median and p90 of each stage, and writes
bench/results/analysis_pipeline.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from bench.analysis_phases import STATIC_PHASES, interleaved, median_p90, phase_seconds
from bench.detection import DEFAULT_CACHE, Input, download_real
from bench.polling import wait_for_count
from bench.sandbox_stack import sandbox_stack
from packguard.common.db import create_pool
from packguard.common.report import AnalysisReport
from packguard.common.settings import StorageSettings
from packguard.common.storage import open_report_store
from tests.e2e.processes import Pipeline, create_api_key
from tests.fixtures.packages import BuiltArtifact
from tests.fixtures.registry import FixtureRegistry

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "analysis_pipeline.json"
STAGES = ("schedule", "queue", "fetch", "start", "static", "dynamic", "other", "record", "total")
FETCH_METRIC = "packguard_runner_fetch_duration_seconds"
_ROW = """
SELECT status, error_category, report_key, verdict_label,
       extract(epoch FROM created_at) AS created, extract(epoch FROM queued_at) AS queued,
       extract(epoch FROM started_at) AS started, extract(epoch FROM finished_at) AS finished,
       extract(epoch FROM updated_at) AS recorded
FROM tasks WHERE id = $1
"""


@dataclass(frozen=True)
class Staged:
    purl: str
    status: str
    """``completed`` or the failure category."""
    verdict: str | None
    seconds: dict[str, float | None]


def stock_mirror(registry: FixtureRegistry, inputs: Sequence[Input]) -> None:
    """Serve each package's cached artifacts as its registry would."""
    for item in inputs:
        for path in item.artifacts:
            artifact = BuiltArtifact(path.name, path.read_bytes())
            if item.ecosystem == "pypi":
                registry.add_pypi(item.name, artifact)
            else:
                registry.add_npm(item.name, item.version, artifact)


def purl_of(item: Input) -> str:
    return f"pkg:{item.ecosystem}/{item.name}@{item.version}"


def staged(
    purl: str, row: asyncpg.Record, report: AnalysisReport | None, fetch: float | None
) -> Staged:
    """Splits the task's life by its row's timestamps and its report's phases."""
    seconds: dict[str, float | None] = dict.fromkeys(STAGES)
    seconds["schedule"] = float(row["queued"] - row["created"])
    seconds["total"] = float(row["recorded"] - row["created"])
    if row["started"] is not None:
        seconds["queue"] = float(row["started"] - row["queued"])
    if row["finished"] is not None:
        seconds["record"] = float(row["recorded"] - row["finished"])
    if report is not None and report.started_at is not None and row["started"] is not None:
        fetched = fetch or 0.0
        start = report.started_at.timestamp() - float(row["started"]) - fetched
        static = phase_seconds(report, STATIC_PHASES)
        dynamic = phase_seconds(report, ("install", "import"))
        runner = float(row["finished"] - row["started"])
        seconds.update(
            fetch=fetch,
            start=start,
            static=static,
            dynamic=dynamic,
            other=runner - fetched - start - static - dynamic,
        )
    status = row["status"] if row["status"] == "completed" else row["error_category"]
    return Staged(purl, status, row["verdict_label"], seconds)


async def fetch_seconds_so_far(session: aiohttp.ClientSession, metrics_url: str) -> float | None:
    """The runner's total fetch seconds over every ecosystem; None if it has no such metric."""
    async with session.get(metrics_url) as response:
        text = await response.text()
    for family in text_string_to_metric_families(text):
        if family.name == FETCH_METRIC:
            return sum(s.value for s in family.samples if s.name == f"{FETCH_METRIC}_sum")
    return None


async def analyse_one(
    session: aiohttp.ClientSession,
    pool: asyncpg.Pool,
    store: Any,
    metrics_url: str,
    purl: str,
    limit_seconds: float,
) -> Staged:
    before = await fetch_seconds_so_far(session, metrics_url)
    async with session.post("/api/v1/analyze/", json={"purl": purl}) as response:
        if response.status != 202:
            raise RuntimeError(f"{purl}: submit answered {response.status}")
        task_id = (await response.json())["data"]["task_id"]
    await wait_for_count(
        pool,
        "SELECT count(*) FROM tasks WHERE id = $1 AND finished_at IS NOT NULL"
        " AND status IN ('completed', 'failed')",
        task_id,
        count=1,
        limit_seconds=limit_seconds,
        what=f"finished ({purl})",
    )
    row = await pool.fetchrow(_ROW, task_id)
    assert row is not None, task_id
    after = await fetch_seconds_so_far(session, metrics_url)
    fetch = after - before if after is not None and before is not None else None
    report = None
    if row["report_key"] is not None:
        report = AnalysisReport.model_validate_json(await store.get(row["report_key"]))
    return staged(purl, row, report, fetch)


def summary(rows: Sequence[Staged], stage: str) -> tuple[float, float] | None:
    return median_p90([row.seconds[stage] for row in rows])


def print_table(rows: Sequence[Staged]) -> None:
    head = "".join(f"{stage:>9}" for stage in STAGES)
    print(f"\n{'package':<40} {'outcome':<12}{head}")
    for row in rows:
        cells = "".join(
            f"{v:>9.2f}" if (v := row.seconds[s]) is not None else f"{'-':>9}" for s in STAGES
        )
        print(f"{row.purl[:40]:<40} {(row.verdict or row.status)[:12]:<12}{cells}")
    for label, index in (("median", 0), ("p90", 1)):
        cells = ""
        for stage in STAGES:
            value = summary(rows, stage)
            cells += f"{value[index]:>9.2f}" if value else f"{'-':>9}"
        print(f"{f'{label} ({len(rows)})':<53}{cells}")


async def run(args: argparse.Namespace) -> list[Staged]:
    print("downloading (or reading the cache of) popular packages…")
    inputs = interleaved(
        await download_real(args.cache, (args.count + 1) // 2, args.max_bytes, every_artifact=True),
        args.count,
    )
    with tempfile.TemporaryDirectory(prefix="packguard-bench-pipeline-", dir="/var/tmp") as tmp:
        root = Path(tmp)
        async with sandbox_stack(root) as stack:
            stock_mirror(stack.registry, inputs)
            pipeline = Pipeline(base_env=stack.env, log_dir=root / "logs")
            pipeline.log_dir.mkdir()
            try:
                await pipeline.start(runners=1)
                return await _analyse_all(args, stack.env, pipeline, [purl_of(i) for i in inputs])
            finally:
                await pipeline.stop()


async def _analyse_all(
    args: argparse.Namespace, env: dict[str, str], pipeline: Pipeline, purls: list[str]
) -> list[Staged]:
    """Each purl in turn, submitted when the one before has finished."""
    key = create_api_key(env["DATABASE_URL"], "bench", rate_limit=1_000_000)
    metrics_url = f"http://127.0.0.1:{pipeline.get('runner-0').env['METRICS_PORT']}/metrics"
    pool = await create_pool(env["DATABASE_URL"], max_size=2)
    rows: list[Staged] = []
    try:
        async with (
            open_report_store(StorageSettings.model_validate(_storage_env(env))) as store,
            aiohttp.ClientSession(pipeline.gateway_url, headers={"X-API-Key": key}) as http,
        ):
            for index, purl in enumerate(purls):
                row = await analyse_one(http, pool, store, metrics_url, purl, args.timeout)
                rows.append(row)
                total = row.seconds["total"] or 0.0
                print(f"  {index + 1}/{len(purls)} {row.purl} {total:.1f}s", flush=True)
    finally:
        await pool.close()
    return rows


def _storage_env(env: dict[str, str]) -> dict[str, str]:
    """The stack's S3 settings as StorageSettings fields (it reads them by lower name)."""
    return {name.lower(): value for name, value in env.items() if name.startswith(("S3_", "AWS_"))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10, help="packages, half per ecosystem")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per task")
    parser.add_argument("--max-bytes", type=int, default=30 << 20, help="artifact size cap")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows = asyncio.run(run(args))
    print_table(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "stages": list(STAGES),
                "seconds": round(time.monotonic() - started, 1),
                "tasks": [asdict(row) for row in rows],
                "summary": {s: summary(rows, s) for s in STAGES},
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
