"""``packguard apikey create|revoke|list``: keys in PostgreSQL, reached via DATABASE_URL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from uuid import UUID

import asyncpg
import typer
from rich.console import Console

from packguard.cli.display import api_keys_table
from packguard.cli.exit_codes import EXIT_ERROR
from packguard.common.db import apply_migrations, create_pool
from packguard.common.errors import PackguardError
from packguard.common.settings import ServiceSettings
from packguard.gateway.apikeys import create_api_key, list_api_keys, revoke_api_key

R = TypeVar("R")

apikey_app = typer.Typer(
    help="Manage API keys. Talks to PostgreSQL directly (DATABASE_URL); applies migrations.",
    no_args_is_help=True,
)
_err = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="DATABASE_URL",
        show_default=False,
        help="PostgreSQL URL [env: DATABASE_URL; default: the services' default].",
    ),
]


def _with_pool(database_url: str | None, action: Callable[[asyncpg.Pool], Awaitable[R]]) -> R:
    dsn = database_url or ServiceSettings().database_url.get_secret_value()

    async def run() -> R:
        pool = await create_pool(dsn, max_size=2)
        try:
            await apply_migrations(pool)
            return await action(pool)
        finally:
            await pool.close()

    try:
        return asyncio.run(run())
    except PackguardError as exc:
        _err.print(f"[red]error[/red] {exc.code}: {exc.message}")
        raise typer.Exit(EXIT_ERROR) from None


@apikey_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
    rate_limit: Annotated[
        int | None,
        typer.Option(
            "--rate-limit",
            min=1,
            help="Requests per minute [default: the gateway's DEFAULT_RATE_LIMIT_PER_MINUTE].",
        ),
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May see every key's tasks.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key and print it (only the key, once: it is stored hashed)."""
    key, text = _with_pool(
        database_url,
        lambda pool: create_api_key(
            pool, name=name, rate_limit_per_minute=rate_limit, is_admin=admin
        ),
    )
    typer.echo(text)
    _err.print(f"created key {key.id} ({key.name})", highlight=False)


@apikey_app.command("revoke")
def revoke(
    key_id: Annotated[UUID, typer.Argument(help="The key id (see 'packguard apikey list').")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key: it is refused from the next request on."""
    key = _with_pool(database_url, lambda pool: revoke_api_key(pool, key_id))
    if key is None:
        _err.print(f"[red]error[/red] no key {key_id}")
        raise typer.Exit(EXIT_ERROR)
    _err.print(f"revoked key {key.id} ({key.name})", highlight=False)


@apikey_app.command("list")
def list_keys(database_url: DatabaseUrl = None) -> None:
    """List keys (never their text)."""
    keys = _with_pool(database_url, list_api_keys)
    Console().print(api_keys_table(keys))
