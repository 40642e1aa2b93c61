"""The sandbox's only "internet": a resolver and TCP listeners on loopback that record what
the package tried to reach, so the report shows intent while nothing leaves the container.

Every A query is answered with the sinkhole address; connections to the listed ports are
read for a few seconds: an HTTP request head gets an empty ``200`` (its request line and
``Host`` recorded), a TLS ClientHello is recorded by server name and closed, anything
else is kept as raw bytes. Everything runs on one event loop in a daemon thread that the
analysis starts before its phases and stops after them; every wait is bounded.

Binds only the loopback address it is given. Inside the container the runner lets an
unprivileged user bind ports below 1024 (``net.ipv4.ip_unprivileged_port_start=0``) and
points ``/etc/resolv.conf`` at 127.0.0.1; tests pass port 0 and read ``bound_ports``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import TypeVar, cast

from packguard.analyzer.dynamic.activity import DnsLookup, HttpSeen, TlsSeen
from packguard.analyzer.dynamic.dns_messages import sinkhole_answer
from packguard.analyzer.dynamic.wire import (
    is_http_request,
    is_tls_client_hello,
    parse_client_hello_sni,
    parse_http_request,
)

SINKHOLE_ADDRESS = "127.0.0.1"
# Web, alternate web, and the ports reverse shells, IRC bots, miners and C2 kits favour.
DEFAULT_TCP_PORTS = (
    21, 22, 25, 80, 443, 1337, 3000, 3333, 4443, 4444, 5000, 5555,
    6667, 7777, 8000, 8080, 8443, 8888, 9001, 9999, 14444, 31337,
)  # fmt: skip
_HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_CONTROL_TIMEOUT_SECONDS = 10.0
_Item = TypeVar("_Item")


@dataclass(frozen=True)
class SinkholeConfig:
    host: str = SINKHOLE_ADDRESS
    dns_port: int = 53
    tcp_ports: tuple[int, ...] = DEFAULT_TCP_PORTS
    read_timeout: float = 2.0
    max_capture_bytes: int = 64 << 10
    max_connections: int = 64
    max_records: int = 500


@dataclass
class SinkholeLog:
    dns: list[DnsLookup] = field(default_factory=list)
    http: list[HttpSeen] = field(default_factory=list)
    tls: list[TlsSeen] = field(default_factory=list)
    raw: list[tuple[int, bytes]] = field(default_factory=list, repr=False)
    """(port, bytes) of connections that were neither HTTP nor TLS."""
    connections: int = 0
    notes: list[str] = field(default_factory=list)


class Sinkhole:
    def __init__(self, config: SinkholeConfig | None = None) -> None:
        self.config = config or SinkholeConfig()
        self.bound_ports: dict[str, int] = {}
        """``dns`` and ``tcp:<configured port>`` → the port actually bound."""
        self._log = SinkholeLog()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.Server] = []
        self._udp: asyncio.DatagramTransport | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    def __enter__(self) -> Sinkhole:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="sinkhole", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._open(), loop)
        future.result(timeout=_CONTROL_TIMEOUT_SECONDS)

    def stop(self) -> SinkholeLog:
        """Close every socket and the loop; the log of everything recorded."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return self.snapshot()
        with contextlib.suppress(TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(
                timeout=_CONTROL_TIMEOUT_SECONDS
            )
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_CONTROL_TIMEOUT_SECONDS)
        if not thread.is_alive():
            loop.close()
        self._loop = self._thread = None
        return self.snapshot()

    def snapshot(self) -> SinkholeLog:
        with self._lock:
            log = self._log
            return SinkholeLog(
                dns=list(log.dns),
                http=list(log.http),
                tls=list(log.tls),
                raw=list(log.raw),
                connections=log.connections,
                notes=list(log.notes),
            )

    def take(self) -> SinkholeLog:
        """Everything recorded since the last ``take`` (one phase's worth)."""
        with self._lock:
            taken, self._log = self._log, SinkholeLog()
            return taken

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        host = self.config.host
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Resolver(self), local_addr=(host, self.config.dns_port)
            )
            self._udp = transport
            self.bound_ports["dns"] = transport.get_extra_info("sockname")[1]
        except OSError as error:
            self._note(f"resolver not listening on {host}:{self.config.dns_port}: {error}")
        for port in self.config.tcp_ports:
            try:
                server = await asyncio.start_server(partial(self._serve, port), host, port)
            except OSError as error:
                self._note(f"no listener on {host}:{port}: {error}")
                continue
            self._servers.append(server)
            self.bound_ports[f"tcp:{port}"] = server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        for server in self._servers:
            server.close()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=self.config.read_timeout)

    async def _serve(
        self, configured: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        port = writer.get_extra_info("sockname")[1] if configured == 0 else configured
        with self._lock:
            self._log.connections += 1
        if task is None or len(self._handlers) >= self.config.max_connections:
            writer.close()
            return
        self._handlers.add(task)
        try:
            data = await self._receive(reader)
            # Recorded before answering: the client may hang up (or look) as soon as it
            # has the reply, and what it sent must be in the log either way.
            self._record(port, data)
            if is_http_request(data):
                writer.write(_HTTP_OK)
                async with asyncio.timeout(self.config.read_timeout):
                    await writer.drain()
        except (OSError, TimeoutError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _receive(self, reader: asyncio.StreamReader) -> bytes:
        """What the client sends first: a whole request head (and body) or ClientHello."""
        data = bytearray()
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(self.config.read_timeout):
                while len(data) < self.config.max_capture_bytes:
                    chunk = await reader.read(4096)
                    if not chunk:
                        break
                    data += chunk
                    if _is_complete(bytes(data)):
                        break
        return bytes(data[: self.config.max_capture_bytes])

    def _record(self, port: int, data: bytes) -> None:
        request = parse_http_request(data) if is_http_request(data) else None
        with self._lock:
            log = self._log
            if request is not None:
                _append(log.http, HttpSeen(request, port, None, data), self.config.max_records)
            elif is_tls_client_hello(data):
                name = parse_client_hello_sni(data) or ""
                _append(log.tls, TlsSeen(name, port), self.config.max_records)
            else:
                _append(log.raw, (port, data), self.config.max_records)

    def record_query(self, payload: bytes) -> bytes | None:
        answer, questions = sinkhole_answer(payload, self.config.host)
        with self._lock:
            for question in questions:
                lookup = DnsLookup(question.name, question.qtype)
                _append(self._log.dns, lookup, self.config.max_records)
        return answer

    def _note(self, text: str) -> None:
        with self._lock:
            self._log.notes.append(text)


class _Resolver(asyncio.DatagramProtocol):
    def __init__(self, sinkhole: Sinkhole) -> None:
        self._sinkhole = sinkhole
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A datagram endpoint's transport, though 3.11 does not subclass DatagramTransport.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        answer = self._sinkhole.record_query(data)
        if answer is not None and self._transport is not None:
            self._transport.sendto(answer, addr)


def _is_complete(data: bytes) -> bool:
    if is_tls_client_hello(data):
        return len(data) >= 5 + int.from_bytes(data[3:5], "big")
    if not is_http_request(data):
        return len(data) > 0  # an unknown protocol: its first chunk is what we keep
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) >= int(value.strip())
            except ValueError:
                return True
    return True


def _append(target: list[_Item], item: _Item, limit: int) -> None:
    if len(target) < limit:
        target.append(item)
