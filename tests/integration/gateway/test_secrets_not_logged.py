"""Secrets stay secret: API keys are stored as hashes, and no key, database password or
S3 secret reaches the gateway's log, a task row or a stored object.

The gateway runs as a real process (``python -m packguard.gateway``) at DEBUG, its
stdout and stderr captured, with a database password and an S3 secret of its own. It is
sent good, forged, revoked and malformed requests that carry the key, then stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import pytest
import pytest_asyncio

from packguard.common.settings import StorageSettings
from packguard.common.storage import ObjectStore, open_store
from packguard.gateway.apikeys import revoke_api_key
from packguard.gateway.credentials import key_id_of
from tests.e2e.processes import ServiceProcess, free_port
from tests.integration.gateway.hostile_client import exchange

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeKey

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# The session's PostgreSQL trusts loopback, so any password works: one nobody else uses.
DATABASE_PASSWORD = f"pg-pass-{secrets.token_hex(12)}"


class _ObjectReader(ObjectStore):
    async def contents(self) -> dict[str, bytes]:
        pages = self._client.get_paginator("list_objects_v2")
        found: dict[str, bytes] = {}
        async for page in pages.paginate(Bucket=self._bucket):
            for entry in page.get("Contents", []):
                response = await self._client.get_object(Bucket=self._bucket, Key=entry["Key"])
                async with response["Body"] as stream:
                    found[entry["Key"]] = await stream.read()
        return found


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{password}@{host}"))


@pytest_asyncio.fixture(loop_scope="session")
async def gateway_process(
    service_env: dict[str, str], db_pool: asyncpg.Pool, redis_client: object, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    """A gateway process over fresh tables and Redis (through db_pool and redis_client)."""
    port = free_port()
    env = {
        **service_env,
        "DATABASE_URL": _with_password(service_env["DATABASE_URL"], DATABASE_PASSWORD),
        "PORT": str(port),
        "LOG_LEVEL": "DEBUG",
        "OTEL_TRACES_EXPORTER": "console",
    }
    process = ServiceProcess(
        "gateway",
        "packguard.gateway",
        env,
        tmp_path / "gateway.log",
        f"http://127.0.0.1:{port}/health/",
    )
    await process.start()
    try:
        await process.wait_ready()
        yield process
    finally:
        await process.stop()


def _secrets(key: str, storage_settings: StorageSettings) -> dict[str, str]:
    s3_secret = storage_settings.aws_secret_access_key
    assert s3_secret is not None
    found = {
        "api key": key,
        "api key secret part": key.split("_", 2)[2],  # the secret may hold "_" itself
        "database password": DATABASE_PASSWORD,
        "s3 secret": s3_secret.get_secret_value(),
    }
    assert all(len(value) >= 16 for value in found.values())
    return found


async def _hostile_heads(port: int, key: str) -> None:
    """Malformed request heads that carry the key: aiohttp's parser quotes such lines."""
    heads = [
        f"GET /api/v1/reports/ HTTP/1.1\r\nAuthorization: Bearer {key} {'a' * 9000}\r\n\r\n",
        f"GET /api/v1/reports/ HTTP/1.1\r\nX-API-Key: {key}\x01\r\n\r\n",
        f"GET /api/v1/reports/ HTTP/1.1\r\nX-API-Key{key}\r\n\r\n",
        f"GET /api/v1/reports/?api_key={key} HTTP/1.1 junk\r\n\r\n",
        f"{key} / HTTP/1.1\r\n\r\n",
    ]
    for head in heads:
        response = await exchange(port, head.encode())
        assert response.startswith(b"HTTP/1.") and b" 400 " in response[:16]
    # A client that sends half its body and hangs up.
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /api/v1/analyze/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{".encode()
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _requests(url: str, key: str, db_pool: asyncpg.Pool) -> None:
    """Every documented /api/v1/ operation with the key, a forged key and a revoked one."""
    good = {"Authorization": f"Bearer {key}"}
    forged = {"X-API-Key": key + "x"}
    in_query = {"api_key": key, "key": key}
    async with aiohttp.ClientSession(url) as session:
        async with session.post(
            "/api/v1/analyze/", json={"purl": "pkg:pypi/six@1.16.0"}, headers=good
        ) as created:
            assert created.status == 202
            task_id = (await created.json())["data"]["task_id"]
        async with session.get("/api/v1/openapi.json") as document:
            paths: dict[str, dict[str, Any]] = (await document.json())["paths"]
        calls = [
            (method.upper(), path.replace("{task_id}", task_id), bool(operation["security"]))
            for path, operations in paths.items()
            if path.startswith("/api/v1/")
            for method, operation in operations.items()
        ]
        for headers in (good, forged, {}):
            for method, path, _ in calls:
                async with session.request(
                    method, path, headers=headers, params=in_query
                ) as response:
                    assert response.status < 500, (method, path, await response.text())
        key_id = key_id_of(key)
        assert key_id is not None
        await revoke_api_key(db_pool, key_id)
        for method, path, needs_key in calls:
            async with session.request(method, path, headers=good) as response:
                assert response.status == 401 if needs_key else 200, (method, path)


async def _wait_for(process: ServiceProcess, text: str, timeout: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in process.log_path.read_text(errors="replace"):
        assert loop.time() < deadline, f"{text} never logged"
        await asyncio.sleep(0.05)


async def test_api_keys_are_stored_as_sha256_hashes_only(
    make_key: MakeKey, db_pool: asyncpg.Pool
) -> None:
    key = await make_key("hashed")

    row = await db_pool.fetchrow("SELECT * FROM api_keys WHERE id = $1", key_id_of(key))

    assert row is not None
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    secret_part = key.split("_", 2)[2]
    assert not any(secret_part in str(value) for value in row.values())


async def test_secrets_never_reach_logs_rows_or_objects(
    gateway_process: ServiceProcess,
    make_key: MakeKey,
    db_pool: asyncpg.Pool,
    storage_settings: StorageSettings,
) -> None:
    key = await make_key("watched", rate_limit=100_000)
    url = gateway_process.health_url.removesuffix("/health/")
    port = int(url.rsplit(":", 1)[1])

    await _hostile_heads(port, key)
    await _requests(url, key, db_pool)  # revokes the key at the end
    await _wait_for(gateway_process, '"event": "http_client_disconnected"')
    await gateway_process.stop()

    log = gateway_process.log_path.read_text(errors="replace")
    # Not vacuous: the log holds the requests, the malformed heads and the config.
    assert '"event": "http_request"' in log and '"status": 401' in log
    assert '"event": "http_malformed_request"' in log
    assert '"event": "config_loaded"' in log
    assert "http_unhandled_error" not in log and '"level": "error"' not in log
    tables = {
        table: await db_pool.fetchval(
            f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t"
        )
        for table in ("tasks", "results", "findings", "api_keys")
    }
    async with open_store(storage_settings, _ObjectReader) as store:
        objects = await store.contents()
    for name, value in _secrets(key, storage_settings).items():
        assert value not in log, f"the {name} is in the gateway's log"
        for table, text in tables.items():
            assert value not in text, f"the {name} is in a {table} row"
        for object_key, body in objects.items():
            assert value.encode() not in body, f"the {name} is in object {object_key}"
