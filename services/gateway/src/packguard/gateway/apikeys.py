"""API keys in PostgreSQL: create, revoke, list, and authenticate a presented key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from packguard.common.coalescing import Coalescer
from packguard.common.db import translated_db_errors
from packguard.common.errors import InvalidInput
from packguard.gateway.credentials import hash_key, is_key_match, key_id_of, new_key_text

MAX_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: UUID
    name: str
    is_admin: bool
    rate_limit_per_minute: int | None
    """None: the gateway's DEFAULT_RATE_LIMIT_PER_MINUTE applies."""
    created_at: datetime
    revoked_at: datetime | None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        is_admin=row["is_admin"],
        rate_limit_per_minute=row["rate_limit_per_minute"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


async def create_api_key(
    pool: asyncpg.Pool, *, name: str, rate_limit_per_minute: int | None, is_admin: bool
) -> tuple[ApiKey, str]:
    """Store a new key; return it with its text, which is shown once and never stored."""
    name = name.strip()
    if not 0 < len(name) <= MAX_NAME_LENGTH:
        raise InvalidInput(f"name must be 1 to {MAX_NAME_LENGTH} characters")
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise InvalidInput("rate limit must be at least 1 request per minute")
    key_id = uuid4()
    text = new_key_text(key_id)
    with translated_db_errors():
        row = await pool.fetchrow(
            "INSERT INTO api_keys (id, name, key_hash, is_admin, rate_limit_per_minute)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING *",
            key_id,
            name,
            hash_key(text),
            is_admin,
            rate_limit_per_minute,
        )
    return _api_key(row), text


async def revoke_api_key(pool: asyncpg.Pool, key_id: UUID) -> ApiKey | None:
    """Revoke a key (again is harmless); None when there is no such key."""
    with translated_db_errors():
        row = await pool.fetchrow(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())"
            " WHERE id = $1 RETURNING *",
            key_id,
        )
    return _api_key(row) if row is not None else None


async def list_api_keys(pool: asyncpg.Pool) -> list[ApiKey]:
    with translated_db_errors():
        rows = await pool.fetch("SELECT * FROM api_keys ORDER BY created_at, id")
    return [_api_key(row) for row in rows]


async def authenticate(pool: asyncpg.Pool, text: str) -> ApiKey | None:
    """The live key ``text`` names, or None when it is unknown, wrong or revoked."""
    key_id = key_id_of(text)
    row = None
    if key_id is not None:
        with translated_db_errors():
            row = await pool.fetchrow("SELECT * FROM api_keys WHERE id = $1", key_id)
    return _verified(text, row)


class KeyAuthenticator:
    """``authenticate`` for the request path: the key rows that concurrent requests
    need are read in one query per event-loop tick. Nothing is cached, so a revoked
    key is refused from the next request on."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._rows: Coalescer[UUID, Any] = Coalescer(self._load)

    async def authenticate(self, text: str) -> ApiKey | None:
        key_id = key_id_of(text)
        row = await self._rows(key_id) if key_id is not None else None
        return _verified(text, row)

    async def _load(self, key_ids: Sequence[UUID]) -> list[Any]:
        with translated_db_errors():
            rows = await self._pool.fetch(
                "SELECT * FROM api_keys WHERE id = ANY($1::uuid[])", list(set(key_ids))
            )
        by_id = {row["id"]: row for row in rows}
        return [by_id.get(key_id) for key_id in key_ids]


def _verified(text: str, row: Any) -> ApiKey | None:
    stored_hash = row["key_hash"] if row is not None else None
    if not is_key_match(text, stored_hash) or row is None:
        return None
    key = _api_key(row)
    return None if key.is_revoked else key
