"""Clients for the hostile-input tests: raw sockets for what no well-behaved HTTP library
sends, and the checks the tests share.

Everything targets the loopback test server, and every loop is bounded by a deadline.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import aiohttp
import asyncpg
from aiohttp.test_utils import TestClient

from packguard.gateway.auth import is_key_required

ANALYZE = "/api/v1/analyze/"
REPORTS = "/api/v1/reports/"
_PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def raw_head(method: str, path: str, key: str, *extra: str) -> bytes:
    """A request head with the key and ``extra`` header lines, as bytes."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {key}"]
    return ("\r\n".join([*lines, *extra]) + "\r\n\r\n").encode()


async def error_of(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The error envelope of ``response``, checked for shape."""
    body = await response.json()
    assert body["success"] is False and body["request_id"], body
    assert response.headers["X-Request-ID"] == body["request_id"]
    return dict(body["error"])


async def assert_still_serving(gateway: TestClient[Any, Any], key: str) -> None:
    response = await gateway.get(REPORTS, headers=bearer(key))
    assert response.status == 200, await response.text()


async def task_count(db_pool: asyncpg.Pool) -> int:
    return int(await db_pool.fetchval("SELECT count(*) FROM tasks"))


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str

    @property
    def has_task_id(self) -> bool:
        return "{task_id}" in self.template

    def path(self, task_id: object | None = None) -> str:
        """The template with ``task_id`` (or a fresh UUID) in every path parameter."""
        return _PATH_PARAMETER.sub(str(task_id or uuid4()), self.template)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def key_required_routes(client: TestClient[Any, Any]) -> list[Route]:
    """Every route of the running app that needs a key, read from its router."""
    app = client.app
    assert app is not None
    routes = {
        Route(route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.method not in {"HEAD", "OPTIONS"}
        and is_key_required(route.resource.canonical)
    }
    return sorted(routes, key=str)


def port_of(client: TestClient[Any, Any]) -> int:
    port = client.server.port
    assert port is not None
    return port


async def exchange(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(timeout):
            return await _read_response(reader)
    finally:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    """One response: the head, then Content-Length bytes (or to EOF without one)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if length is None:
        return head + await reader.read()
    return head + await reader.readexactly(int(length[1]))


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def body_of(response: bytes) -> bytes:
    return response.partition(b"\r\n\r\n")[2]


@dataclass
class SlowClient:
    """Opens a connection, sends ``preamble`` and then one byte of ``drip`` at a time."""

    port: int
    preamble: bytes
    drip: bytes
    interval: float = 0.1
    received: bytes = b""
    closed_by_server: bool = False

    async def _read_until_closed(self, reader: asyncio.StreamReader) -> None:
        """Keep what the server sends as it arrives: a server that closes while our drip
        bytes are unread resets the connection (after its lingering time), and a reset
        would discard an answer that was still waiting in a read-to-EOF buffer."""
        try:
            while chunk := await reader.read(65536):
                self.received += chunk
        except ConnectionError:
            pass

    async def run(self, deadline: float) -> None:
        """Drip until the server closes the connection or ``deadline`` (loop time) passes."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        loop = asyncio.get_running_loop()
        reading = asyncio.create_task(self._read_until_closed(reader))
        try:
            writer.write(self.preamble)
            for byte in self.drip:
                if reading.done() or loop.time() > deadline:
                    break
                writer.write(bytes([byte]))
                await asyncio.wait({reading}, timeout=self.interval)
            remaining = max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait({reading}, timeout=remaining)
            self.closed_by_server = bool(done)
        except ConnectionError:
            self.closed_by_server = True
        finally:
            reading.cancel()
            writer.close()
