"""API clients that keep submitting through every fault, as a careful caller would.

Each submission is one logical request with its own idempotency key: the client sends it
at its planned time and, on a connection error, a timeout, a 5xx, a 429 or a 409, sends
it again with the same key until it is answered or ``give_up_seconds`` pass. Every task
id the API ever answers is recorded: these records, not logs, are what the audit trusts.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.chaos.plan import Submission

IDEMPOTENCY_HEADER = "X-Idempotency-Key"
REQUEST_TIMEOUT_SECONDS = 10.0
RETRY_FIRST_SECONDS = 0.1
RETRY_CAP_SECONDS = 2.0
RETRIED_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


@dataclass(slots=True)
class ClientRecord:
    """What the client saw for one submission."""

    submission: Submission
    task_ids: set[str] = field(default_factory=set)
    attempts: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    """HTTP statuses and error kinds, e.g. ``{"202": 1, "connection_error": 2}``."""
    rejected: str | None = None
    """A final non-retried answer (a 4xx the harness did not expect), if any."""

    @property
    def accepted(self) -> bool:
        return bool(self.task_ids)


@dataclass(slots=True)
class ClientProgress:
    """Live counters the fault injector watches (the gateway dies under the burst)."""

    answered: int = 0
    burst_answered: int = 0
    in_flight: int = 0
    burst_milestone: int = 0
    """``milestone_reached`` is set once this many burst submissions are answered."""
    milestone_reached: asyncio.Event = field(default_factory=asyncio.Event)

    def note_answer(self, submission: Submission) -> None:
        self.answered += 1
        if submission.burst:
            self.burst_answered += 1
            if self.burst_answered >= self.burst_milestone:
                self.milestone_reached.set()


class Clients:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        concurrency: int,
        give_up_seconds: float,
        rng: random.Random,
    ) -> None:
        self._url = f"{base_url}/api/v1/analyze/"
        self._api_key = api_key
        self._limit = asyncio.Semaphore(concurrency)
        self._give_up_seconds = give_up_seconds
        self._rng = rng
        self.progress = ClientProgress()

    async def submit_all(
        self, submissions: list[Submission], *, start: float
    ) -> list[ClientRecord]:
        """Send each submission at ``start + submission.at`` (loop time); return the records."""
        records = [ClientRecord(s) for s in submissions]
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            await asyncio.gather(*(self._submit(session, r, start) for r in records))
        return records

    async def _submit(
        self, session: aiohttp.ClientSession, record: ClientRecord, start: float
    ) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, start + record.submission.at - loop.time()))
        await self._until_answered(session, record)
        if record.accepted:
            self.progress.note_answer(record.submission)
            if record.submission.resend:
                # A caller unsure its first answer arrived: the same task must come back.
                await self._until_answered(session, record)

    async def _until_answered(self, session: aiohttp.ClientSession, record: ClientRecord) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._give_up_seconds
        delay = RETRY_FIRST_SECONDS
        while loop.time() < deadline:
            if await self._attempt(session, record) or record.rejected is not None:
                return
            await asyncio.sleep(delay * (0.5 + self._rng.random()))
            delay = min(delay * 2, RETRY_CAP_SECONDS)

    async def _attempt(self, session: aiohttp.ClientSession, record: ClientRecord) -> bool:
        """One POST; True when it was answered with a task."""
        submission = record.submission
        headers = {"X-API-Key": self._api_key, IDEMPOTENCY_HEADER: submission.idempotency_key}
        record.attempts += 1
        async with self._limit:
            self.progress.in_flight += 1
            try:
                async with session.post(self._url, json=submission.body(), headers=headers) as r:
                    status = r.status
                    body: Any = await r.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                record.outcomes[_error_kind(exc)] += 1
                return False
            finally:
                self.progress.in_flight -= 1
        record.outcomes[str(status)] += 1
        if status in (200, 202):
            record.task_ids.add(str(body["data"]["task_id"]))
            return True
        if status not in RETRIED_STATUSES:
            record.rejected = f"{status} {body}"[:300]
        return False


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ValueError):
        return "invalid_body"
    return "connection_error"
