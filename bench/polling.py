"""Waiting for a benchmark's work to land: poll a count in PostgreSQL against a deadline."""

from __future__ import annotations

import asyncio
import time

import asyncpg


async def wait_for_count(
    pool: asyncpg.Pool, query: str, *args: object, count: int, limit_seconds: float, what: str
) -> None:
    """Return once ``query`` (one integer) reaches ``count``; TimeoutError at the limit."""
    deadline = time.monotonic() + limit_seconds
    done = 0
    while time.monotonic() < deadline:
        done = await pool.fetchval(query, *args)
        if done >= count:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"only {done}/{count} {what}")
