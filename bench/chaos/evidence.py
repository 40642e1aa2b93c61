"""Reading the outcome of a run from PostgreSQL and S3 (never from logs)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection
from pathlib import PurePosixPath

import asyncpg

from bench.chaos.audit import FINAL, Evidence, TaskRow
from packguard.devstack.s3_server import s3_client

REPORT_PREFIX = "reports/"
POLL_SECONDS = 0.5


async def wait_final(pool: asyncpg.Pool, task_ids: Collection[str], *, seconds: float) -> int:
    """Poll until every task in ``task_ids`` is final or ``seconds`` pass; return how
    many are still not final."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        done = await pool.fetchval(
            "SELECT count(*) FROM tasks WHERE id = ANY($1::uuid[]) AND status = ANY($2::text[])",
            list(task_ids),
            sorted(FINAL),
        )
        left = len(task_ids) - int(done)
        if left == 0 or loop.time() >= deadline:
            return left
        await asyncio.sleep(POLL_SECONDS)


async def gather_evidence(pool: asyncpg.Pool, s3_endpoint: str, bucket: str) -> Evidence:
    rows = await pool.fetch(
        "SELECT id::text, purl, status, error_category, idempotency_key, report_key,"
        " analyzer_version FROM tasks"
    )
    results = await pool.fetch("SELECT task_id::text, count(*) AS n FROM results GROUP BY 1")
    return Evidence(
        rows=[TaskRow(**dict(row)) for row in rows],
        results={row["task_id"]: int(row["n"]) for row in results},
        report_objects=await _report_objects(s3_endpoint, bucket),
    )


async def _report_objects(endpoint: str, bucket: str) -> dict[str, list[str]]:
    """Task id (the object's file stem) → every report object key named after it."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    async with s3_client(endpoint) as client:
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=bucket, Prefix=REPORT_PREFIX):
            for item in page.get("Contents", []):
                key = item["Key"]
                found[PurePosixPath(key).stem].append(key)
    return dict(found)
