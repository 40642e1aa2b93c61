"""Builders for reporter integration tests; the real clients come from tests/conftest.py."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from itertools import count
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
import redis.asyncio as redis
from prometheus_client import CollectorRegistry

from packguard.common.purl import parse_purl
from packguard.common.report import AnalysisReport
from packguard.common.storage import ReportStore
from packguard.reporter import Reporter, ReporterSettings, TaskFinished


class RecordingNotifier:
    def __init__(self) -> None:
        self.finished: list[TaskFinished] = []

    async def task_finished(self, outcome: TaskFinished) -> None:
        self.finished.append(outcome)


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening, so no other
    process can take it while the test runs (unlike a port that merely looked free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def reporter_registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def make_reporter(
    redis_client: redis.Redis,
    db_pool: asyncpg.Pool,
    report_store: ReportStore,
    redis_url: str,
    database_url: str,
    reporter_registry: CollectorRegistry,
    notifier: RecordingNotifier,
) -> Callable[..., Reporter]:
    def build(
        *,
        store: ReportStore | None = None,
        pool: asyncpg.Pool | None = None,
        registry: CollectorRegistry | None = None,
        **overrides: Any,
    ) -> Reporter:
        """A reporter on the test's clients; a second one in a test needs its own registry."""
        fields: dict[str, Any] = {
            "redis_url": redis_url,
            "database_url": database_url,
            "consumer_name": "reporter-test",
        }
        return Reporter(
            settings=ReporterSettings.model_validate(fields | overrides),
            client=redis_client,
            pool=pool or db_pool,
            store=store or report_store,
            registry=registry or reporter_registry,
            notifier=notifier,
        )

    return build


InsertTask = Callable[..., Awaitable[UUID]]


@pytest.fixture
def insert_task(db_pool: asyncpg.Pool) -> InsertTask:
    """Insert a task row at a given point of its life; return its id."""
    versions = count(1)

    async def insert(
        *,
        purl: str | None = None,
        status: str = "running",
        attempts: int = 1,
        started_at: datetime | None = None,
    ) -> UUID:
        package = parse_purl(
            purl or f"pkg:npm/%40scope/left-pad@1.0.{next(versions)}", allow_upload=True
        )
        task_id = uuid4()
        await db_pool.execute(
            "INSERT INTO tasks (id, purl, ecosystem, name, version, status, attempts,"
            " timeout_minutes, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 30, $8)",
            task_id,
            package.purl,
            package.ecosystem.value,
            package.name,
            package.version,
            status,
            attempts,
            started_at,
        )
        return task_id

    return insert


@pytest.fixture
def report() -> AnalysisReport:
    """A finished analysis with two findings."""
    return AnalysisReport.model_validate(
        {
            "analyzer_version": "0.1.0",
            "package": {"ecosystem": "npm", "name": "@scope/left-pad", "version": "1.0.1"},
            "artifacts": [{"filename": "p.tgz", "size_bytes": 120, "sha256": "cd" * 32}],
            "verdict": {"label": "suspicious", "score": 6.0, "summary": "reads ~/.npmrc"},
            "findings": [
                {
                    "rule_id": f"credentials-read-{n}",
                    "title": f"Reads a credential file ({n})",
                    "severity": "high",
                    "confidence": 0.75,
                    "category": "credentials",
                    "evidence": [{"file": "index.js", "line": n + 1, "snippet": "fs.read(...)"}],
                }
                for n in range(2)
            ],
        }
    )
