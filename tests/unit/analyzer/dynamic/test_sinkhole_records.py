"""What the sinkhole records from a query or a connection, without sockets.

Connections are driven through an in-memory ``StreamReader`` and a fake writer; the
loopback servers themselves are exercised in tests/integration/analyzer/.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

import dns.message

from packguard.analyzer.dynamic.sinkhole import Sinkhole, SinkholeConfig


class FakeWriter:
    def __init__(self, port: int) -> None:
        self.sent = bytearray()
        self.closed = False
        self._port = port

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", self._port) if name == "sockname" else None

    def write(self, data: bytes) -> None:
        self.sent += data

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


async def connect(sinkhole: Sinkhole, port: int, data: bytes, *, eof: bool = True) -> FakeWriter:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    writer = FakeWriter(port)
    await sinkhole._serve(port, reader, writer)  # type: ignore[arg-type]
    return writer


def client_hello(server_name: str) -> bytes:
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname=server_name)
    with contextlib.suppress(ssl.SSLWantReadError):  # it waits for the server's answer
        client.do_handshake()
    return outgoing.read()


def test_query_is_recorded_and_answered() -> None:
    sinkhole = Sinkhole()
    answer = sinkhole.record_query(dns.message.make_query("collect.invalid", "A").to_wire())
    assert answer is not None
    assert [(d.name, d.qtype, d.line) for d in sinkhole.take().dns] == [
        ("collect.invalid", "A", None)
    ]
    assert sinkhole.take().dns == []  # take() hands each record over once


async def test_http_request_gets_an_empty_ok_and_is_recorded() -> None:
    sinkhole = Sinkhole()
    request = b"POST /up?id=7 HTTP/1.1\r\nHost: exfil.invalid\r\nContent-Length: 6\r\n\r\nsecret"
    writer = await connect(sinkhole, 80, request, eof=False)  # Content-Length ends the read
    assert writer.sent.startswith(b"HTTP/1.1 200 OK\r\n") and writer.closed
    (seen,) = sinkhole.take().http
    assert (seen.request.method, seen.request.host, seen.request.path, seen.port) == (
        "POST",
        "exfil.invalid",
        "/up?id=7",
        80,
    )
    assert seen.payload.endswith(b"secret")


async def test_client_hello_is_recorded_by_server_name_and_closed() -> None:
    sinkhole = Sinkhole()
    writer = await connect(sinkhole, 443, client_hello("c2.invalid"), eof=False)
    assert writer.sent == b"" and writer.closed
    assert [(t.server_name, t.port) for t in sinkhole.take().tls] == [("c2.invalid", 443)]


async def test_other_protocols_keep_their_first_bytes() -> None:
    sinkhole = Sinkhole()
    await connect(sinkhole, 4444, b"\x00whoami\n")
    log = sinkhole.take()
    assert log.raw == [(4444, b"\x00whoami\n")] and log.connections == 1


async def test_silent_client_is_dropped_after_the_read_timeout() -> None:
    sinkhole = Sinkhole(SinkholeConfig(read_timeout=0.05))
    writer = await connect(sinkhole, 22, b"", eof=False)
    assert writer.closed
    assert sinkhole.take().raw == [(22, b"")]


async def test_capture_and_records_are_capped() -> None:
    sinkhole = Sinkhole(SinkholeConfig(max_capture_bytes=16, max_records=2))
    for _ in range(3):
        await connect(sinkhole, 9999, b"x" * 100)
    log = sinkhole.take()
    assert [len(data) for _, data in log.raw] == [16, 16]
    assert log.connections == 3
