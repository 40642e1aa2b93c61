"""The database side of the DR drill: realistic rows in, a fingerprint of every table out.

Rows go into the schema the real migrations build (packguard.common.db), so the drill
backs up and restores what production has: tasks in every state, results with their
findings, API keys, and the migrations' own bookkeeping table.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from packguard.common.db import apply_migrations

# In foreign-key order; schema_migrations proves the migrations' state came along.
TABLES = ("schema_migrations", "api_keys", "tasks", "results", "findings")
CHECKSUM_TABLE = "results"
STATUSES = ("completed", "completed", "completed", "failed", "queued", "running", "cancelled")
VERDICTS = (("benign", 0.02), ("low", 0.2), ("suspicious", 0.55), ("malicious", 0.93))
SEVERITIES = ("low", "medium", "high", "critical")
ECOSYSTEMS = ("pypi", "npm")


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    checksum: str  # md5 over every row's text form, in a fixed order


async def seed_rows(dsn: str, *, tasks: int, seed: int = 4) -> None:
    """Apply the migrations, then insert `tasks` tasks with their results and findings."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        await apply_migrations(pool)
        async with pool.acquire() as connection:
            # Fake data, reproducible: not a secret.
            rows = _rows(random.Random(seed), tasks, datetime.now(UTC))  # noqa: S311
            for table in TABLES[1:]:
                await connection.copy_records_to_table(
                    table, records=rows[table], columns=list(_COLUMNS[table])
                )
    finally:
        await pool.close()


async def count_tables(dsn: str) -> int:
    """Tables in the public schema: 0 for a fresh database."""
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        )
    finally:
        await connection.close()


async def fingerprint(dsn: str) -> dict[str, TableFingerprint]:
    """Row count and checksum of each of TABLES."""
    connection = await asyncpg.connect(dsn)
    try:
        result = {}
        for table in TABLES:
            # Row text in C collation order: identical rows give identical sums anywhere.
            row = await connection.fetchrow(
                f"SELECT count(*) AS rows, md5(coalesce(string_agg(t::text, E'\\n' "  # noqa: S608 - fixed names
                f"ORDER BY t::text COLLATE \"C\"), '')) AS checksum FROM {table} t"
            )
            assert row is not None  # noqa: S101 - an aggregate always returns a row
            result[table] = TableFingerprint(rows=row["rows"], checksum=row["checksum"])
        return result
    finally:
        await connection.close()


_COLUMNS = {
    "api_keys": ("id", "name", "key_hash", "is_admin", "rate_limit_per_minute", "created_at"),
    "tasks": (
        "id", "api_key_id", "purl", "ecosystem", "name", "version", "priority", "status",
        "attempts", "timeout_minutes", "created_at", "updated_at", "finished_at",
        "verdict_label", "verdict_score", "report_key", "analyzer_version",
    ),
    "results": (
        "task_id", "analyzer_version", "verdict_label", "verdict_score", "summary",
        "artifact_sha256", "report_key", "finding_count", "created_at",
    ),
    "findings": (
        "task_id", "ordinal", "rule_id", "title", "severity", "confidence", "category",
        "file", "line", "snippet",
    ),
}  # fmt: skip


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _rows(rng: random.Random, tasks: int, now: datetime) -> dict[str, list[tuple[Any, ...]]]:
    keys = [
        (_uuid(rng), f"drill-key-{n}", f"{rng.getrandbits(256):064x}", n == 0, None, now)
        for n in range(max(2, tasks // 100))
    ]
    rows: dict[str, list[tuple[Any, ...]]] = {"api_keys": keys, "tasks": [], "results": []}
    rows["findings"] = []
    for n in range(tasks):
        task_id, ecosystem = _uuid(rng), rng.choice(ECOSYSTEMS)
        name, version = f"drill-package-{n % 997}", f"1.{n % 13}.{n}"
        created = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
        status = rng.choice(STATUSES)
        verdict, base_score = rng.choice(VERDICTS)
        done = status == "completed"
        report = f"reports/{ecosystem}/{name}/{version}/{task_id}.json" if done else None
        finished = created + timedelta(seconds=rng.lognormvariate(1.6, 1.0)) if done else None
        rows["tasks"].append(
            (task_id, rng.choice(keys)[0], f"pkg:{ecosystem}/{name}@{version}", ecosystem, name,
             version, rng.randint(0, 10), status, 1, 30, created, finished or created, finished,
             verdict if done else None, base_score if done else None, report,
             "0.1.0" if done else None)
        )  # fmt: skip
        if not done:
            continue
        count = rng.randint(0, 4)
        rows["results"].append(
            (task_id, "0.1.0", verdict, base_score, f"{count} findings",
             f"{rng.getrandbits(256):064x}", report, count, finished)
        )  # fmt: skip
        for ordinal in range(count):
            rows["findings"].append(
                (task_id, ordinal, f"drill-rule-{ordinal}", "A drill finding",
                 rng.choice(SEVERITIES), round(rng.random(), 3), "drill", "setup.py",
                 rng.randint(1, 400), "print('inert drill fixture')")
            )  # fmt: skip
    return rows
