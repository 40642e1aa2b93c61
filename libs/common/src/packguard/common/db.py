"""PostgreSQL: the connection pool, versioned migrations, and error translation."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from importlib import resources

import asyncpg
import structlog

from packguard.common.errors import DependencyUnavailable

log = structlog.get_logger(__name__)

# Any fixed number: serializes concurrent migrators (several services start at once).
_MIGRATION_LOCK_ID = 0x7061636B


@contextlib.contextmanager
def translated_db_errors() -> Iterator[None]:
    """Turn connection-level asyncpg/OS errors into DependencyUnavailable."""
    try:
        yield
    except (
        OSError,
        asyncpg.exceptions.ConnectionDoesNotExistError,
        asyncpg.exceptions.CannotConnectNowError,
        asyncpg.exceptions.InterfaceError,
        # A server restart: sessions are ended (57P01/57P02) and a connection caught
        # mid-operation is left in a state asyncpg refuses to use (seen in the chaos run).
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CrashShutdownError,
        asyncpg.exceptions.InternalClientError,
        TimeoutError,
    ) as exc:
        raise DependencyUnavailable(f"database unavailable: {exc}") from exc


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (UNLISTEN, RESET ALL, ...).

    No packguard code changes session state (no LISTEN, SET or session advisory lock),
    and the reset query doubled the round trips of every pooled query. asyncpg still
    rolls back a transaction left open before this runs.
    """


@contextlib.asynccontextmanager
async def service_pool(dsn: str, *, max_size: int) -> AsyncIterator[asyncpg.Pool]:
    """A service's pool: opened without a connection (so while PostgreSQL is down),
    closed on exit."""
    pool = await create_pool(dsn, max_size=max_size, connect_now=False)
    try:
        yield pool
    finally:
        await pool.close()


async def create_pool(dsn: str, *, max_size: int = 10, connect_now: bool = True) -> asyncpg.Pool:
    """A pool; with ``connect_now=False`` it opens no connection until a query needs one,
    so it exists while PostgreSQL is down (each query then fails with
    DependencyUnavailable until the server is back)."""
    # A lazy pool keeps no connection floor: asyncpg would re-open it in a retry loop of
    # its own, with a warning per attempt, for as long as an outage lasts.
    size = 1 if connect_now else 0
    with translated_db_errors():
        pool = await asyncpg.create_pool(
            dsn,
            init_size=size,
            min_size=size,
            max_size=max_size,
            timeout=10,
            reset=_keep_session,
        )
    assert pool is not None
    return pool


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped with this package, in order."""
    folder = resources.files("packguard.common") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text()))
    return sorted(found)


async def apply_migrations(pool: asyncpg.Pool) -> list[str]:
    """Apply pending migrations once, whoever else is starting; return the names applied."""
    applied: list[str] = []
    # Translated: a service retries its migrations while PostgreSQL is unreachable.
    with translated_db_errors():
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK_ID)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")
            }
            for version, name, sql in migration_files():
                if version in done:
                    continue
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
                )
                applied.append(name)
    if applied:
        log.info("db_migrations_applied", migrations=applied)
    return applied
