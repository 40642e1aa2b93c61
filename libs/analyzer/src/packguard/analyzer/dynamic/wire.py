"""What the first bytes of a TCP connection say: an HTTP request head or a TLS server name.

Pure parsers over bytes a package sent; they return ``None`` for anything else and never
raise, whatever the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HTTP_METHODS = frozenset(
    {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE"}
)
_REQUEST_LINE = re.compile(rb"^([A-Z]{3,7}) (\S{1,8192}) (HTTP/\d(?:\.\d)?)\r?$")
_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#]*)(.*)$")
_MAX_FIELD = 512
_TLS_HANDSHAKE = 0x16
_CLIENT_HELLO = 0x01
_SNI_EXTENSION = 0x0000
_HOST_NAME = 0x00


@dataclass(frozen=True)
class HttpRequest:
    method: str
    host: str
    path: str
    version: str

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.path} {self.version}"


def is_http_request(data: bytes) -> bool:
    method = data[:8].split(b" ", 1)[0]
    return method.decode("ascii", "replace") in HTTP_METHODS and b" " in data[:8]


def parse_http_request(data: bytes) -> HttpRequest | None:
    """The request line and ``Host`` of an HTTP/1.x request head (possibly cut short)."""
    lines = data.split(b"\n")
    match = _REQUEST_LINE.match(lines[0])
    if not match or match[1].decode("ascii") not in HTTP_METHODS:
        return None
    target = _text(match[2])
    host = ""
    absolute = _ABSOLUTE.match(target)
    if absolute:  # proxy form: GET http://host/path HTTP/1.1
        host, target = absolute[1], absolute[2] or "/"
    for raw in lines[1:]:
        line = raw.rstrip(b"\r")
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"host" and not host:
            host = _text(value.strip())
    return HttpRequest(
        method=match[1].decode("ascii"),
        host=host.lower(),
        path=target[:_MAX_FIELD],
        version=match[3].decode("ascii"),
    )


def is_tls_client_hello(data: bytes) -> bool:
    return len(data) >= 6 and data[0] == _TLS_HANDSHAKE and data[1] == 3 and data[5] == 1


def parse_client_hello_sni(data: bytes) -> str | None:
    """The server name (SNI) of a TLS ClientHello, from its records; ``None`` if absent."""
    handshake = _handshake_bytes(data)
    if len(handshake) < 4 or handshake[0] != _CLIENT_HELLO:
        return None
    body = handshake[4 : 4 + int.from_bytes(handshake[1:4], "big")]
    reader = _Reader(body)
    reader.skip(2 + 32)  # client_version, random
    reader.skip(reader.number(1))  # session id
    reader.skip(reader.number(2))  # cipher suites
    reader.skip(reader.number(1))  # compression methods
    extensions = _Reader(reader.take(reader.number(2)))
    while extensions.remaining >= 4:
        kind, size = extensions.number(2), extensions.number(2)
        payload = extensions.take(size)
        if kind == _SNI_EXTENSION:
            return _server_name(_Reader(payload))
    return None


def _server_name(reader: _Reader) -> str | None:
    names = _Reader(reader.take(reader.number(2)))
    while names.remaining >= 3:
        kind, size = names.number(1), names.number(2)
        name = names.take(size)
        if kind == _HOST_NAME and name:
            return _text(name).lower()
    return None


def _handshake_bytes(data: bytes) -> bytes:
    """The handshake stream carried by consecutive TLS handshake records."""
    out = bytearray()
    offset = 0
    while offset + 5 <= len(data) and data[offset] == _TLS_HANDSHAKE:
        size = int.from_bytes(data[offset + 3 : offset + 5], "big")
        out += data[offset + 5 : offset + 5 + size]
        offset += 5 + size
    return bytes(out)


def _text(raw: bytes) -> str:
    return raw[:_MAX_FIELD].decode("utf-8", "backslashreplace")


class _Reader:
    """Bounds-checked reads; past the end everything is empty or zero."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    @property
    def remaining(self) -> int:
        return max(0, len(self._data) - self._offset)

    def take(self, size: int) -> bytes:
        chunk = self._data[self._offset : self._offset + size]
        self._offset += size
        return chunk

    def number(self, size: int) -> int:
        chunk = self.take(size)
        return int.from_bytes(chunk, "big") if len(chunk) == size else 0

    def skip(self, size: int) -> None:
        self._offset += size
