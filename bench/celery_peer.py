"""The peer for the control-plane benchmark: Celery on the same Redis doing the
equivalent minimal job: enqueue → a worker runs it → it stores a result row in the same
PostgreSQL.

The worker runs ``celery -A bench.celery_peer worker`` with the prefork pool at the
concurrency of the packguard runners it is compared with; tasks are acknowledged late
(after the row is stored), like packguard's at-least-once delivery, and keep no Celery
result (the row is the result).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
from celery import Celery
from celery.signals import worker_process_init

from bench.pacing import paced_blocking
from bench.polling import wait_for_count

REPO = Path(__file__).resolve().parent.parent
QUEUE = "packguard-bench-peer"

app = Celery("packguard_bench_peer")
app.conf.update(
    broker_url=os.environ.get("PEER_BROKER_URL", "redis://127.0.0.1:16379/0"),
    broker_connection_retry_on_startup=True,
    task_default_queue=QUEUE,
    task_ignore_result=True,
    task_acks_late=True,
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS peer_results (
    task_id        uuid PRIMARY KEY,
    purl           text NOT NULL,
    verdict_label  text NOT NULL,
    enqueued_at    timestamptz NOT NULL,
    stored_at      timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""
_INSERT = (
    "INSERT INTO peer_results (task_id, purl, verdict_label, enqueued_at)"
    " VALUES (%s, %s, 'benign', to_timestamp(%s)) ON CONFLICT (task_id) DO NOTHING"
)

# One connection per worker child, opened when the child starts (Celery's own hook):
# a task body cannot be handed dependencies.
_connections: dict[int, psycopg.Connection[Any]] = {}


@worker_process_init.connect
def _open_connection(**_: object) -> None:
    _connections[os.getpid()] = psycopg.connect(os.environ["PEER_DATABASE_URL"], autocommit=True)


@app.task(name="bench.record")
def record(task_id: str, purl: str, enqueued_at: float) -> None:
    connection = _connections.get(os.getpid())
    if connection is None:
        _open_connection()
        connection = _connections[os.getpid()]
    connection.execute(_INSERT, (task_id, purl, enqueued_at))


_LATENCY = """
SELECT percentile_cont($2::float8[]) WITHIN GROUP (ORDER BY d) AS quantiles
FROM (SELECT extract(epoch FROM stored_at - enqueued_at) AS d FROM peer_results
      WHERE purl LIKE $1 || '%') s
"""
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
"""The latency distribution both systems report (submit → recorded)."""


def latency_quantiles(seconds: list[float]) -> dict[str, float]:
    """``{"p10": ms, ...}`` from percentile_cont's answer for ``QUANTILES``, in seconds."""
    return {
        f"p{round(q * 100)}": round(value * 1000, 1)
        for q, value in zip(QUANTILES, seconds, strict=True)
    }


@dataclass(frozen=True)
class Pacing:
    """The paced run: ``tasks`` submitted open loop at ``rate`` per second."""

    tasks: int
    rate: float

    def summary(self, latency_ms: dict[str, float]) -> dict[str, Any]:
        return {
            "paced_rate": self.rate,
            "paced_p50_ms": latency_ms["p50"],
            "paced_p99_ms": latency_ms["p99"],
            "paced_latency_ms": latency_ms,
        }


def _enqueue(count: int, prefix: str, rate: float | None = None) -> None:
    with app.producer_or_acquire() as producer:

        def send(i: int) -> None:
            record.apply_async(
                args=(str(uuid.uuid4()), f"{prefix}{i}@1.0.0", time.time()), producer=producer
            )

        if rate is None:
            for i in range(count):
                send(i)
        else:
            paced_blocking(send, count=count, rate=rate)


async def _wait_rows(pool: asyncpg.Pool, prefix: str, count: int, limit_seconds: float) -> None:
    query = "SELECT count(*) FROM peer_results WHERE purl LIKE $1 || '%'"
    await wait_for_count(
        pool, query, prefix, count=count, limit_seconds=limit_seconds, what="celery rows"
    )


async def _latency_ms(pool: asyncpg.Pool, prefix: str) -> dict[str, float]:
    return latency_quantiles(await pool.fetchval(_LATENCY, prefix, list(QUANTILES)))


async def _start_worker(env: dict[str, str], workers: int, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.celery_peer",
            "worker",
            "--pool=prefork",
            f"--concurrency={workers}",
            f"--queues={QUEUE}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            cwd=REPO,
            env={
                **os.environ,
                "PEER_BROKER_URL": env["REDIS_URL"],
                "PEER_DATABASE_URL": env["DATABASE_URL"],
                "PYTHONPATH": str(REPO),
            },
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


async def _stop_worker(worker: asyncio.subprocess.Process) -> None:
    if worker.returncode is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        async with asyncio.timeout(20):
            await worker.wait()
    except TimeoutError:
        os.killpg(worker.pid, signal.SIGKILL)
        await worker.wait()


class CeleryPeer:
    """A Celery worker of ``workers`` processes; ``measure`` times ``tasks`` of them."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self._env = env
        self._workers = workers
        self._log = log
        self._process: asyncio.subprocess.Process | None = None
        self._pool: asyncpg.Pool | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    async def start(self) -> None:
        app.conf.broker_url = self._env["REDIS_URL"]
        self._pool = await asyncpg.create_pool(self._env["DATABASE_URL"], min_size=1, max_size=2)
        await self._pool.execute(_SCHEMA)
        await self._pool.execute("TRUNCATE peer_results")
        self._process = await _start_worker(self._env, self._workers, self._log)
        # Ready once a first task has gone through (connections and children are up).
        await asyncio.to_thread(_enqueue, 1, "pkg:npm/warm-")
        await _wait_rows(self._pool, "pkg:npm/warm-", 1, limit_seconds=60)
        await self._pool.execute("TRUNCATE peer_results")

    async def measure(self, tasks: int) -> dict[str, Any]:
        assert self._pool is not None
        prefix = f"pkg:npm/peer-{self._workers}-"
        started = time.monotonic()
        producer = threading.Thread(target=_enqueue, args=(tasks, prefix))
        producer.start()
        await _wait_rows(self._pool, prefix, tasks, limit_seconds=600)
        elapsed = time.monotonic() - started
        producer.join()
        latency = await _latency_ms(self._pool, prefix)
        return {
            "seconds": round(elapsed, 2),
            "tasks_per_second": round(tasks / elapsed, 1),
            "p50_ms": latency["p50"],
            "p99_ms": latency["p99"],
        }

    async def measure_paced(self, pacing: Pacing) -> dict[str, Any]:
        """Submit → stored latency at an offered rate the worker keeps up with."""
        assert self._pool is not None
        prefix = f"pkg:npm/peer-paced-{self._workers}-"
        await asyncio.to_thread(_enqueue, pacing.tasks, prefix, pacing.rate)
        await _wait_rows(self._pool, prefix, pacing.tasks, limit_seconds=120)
        return pacing.summary(await _latency_ms(self._pool, prefix))

    async def stop(self) -> None:
        if self._process is not None:
            await _stop_worker(self._process)
        if self._pool is not None:
            await self._pool.execute("DROP TABLE IF EXISTS peer_results")
            await self._pool.close()
