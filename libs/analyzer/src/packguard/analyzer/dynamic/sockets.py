"""Socket syscall arguments as strace prints them: addresses, payloads, descriptors."""

from __future__ import annotations

import re
from dataclasses import dataclass

from packguard.analyzer.dynamic.strace import decode_string, decode_text

_FAMILY = re.compile(r"sa_family=(AF_[A-Z0-9]+)")
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_INET = re.compile(r'sin_addr=inet_addr\("([^"]*)"\)')
_INET6 = re.compile(r'inet_pton\(AF_INET6,\s*"([^"]*)"')
_UNIX = re.compile(r'sun_path=(@?)("(?:[^"\\]|\\.)*")')
_SOCKET_FD = re.compile(r"<(?:socket|UDP|TCP|UDPv6|TCPv6|UNIX)[^>]*?\[(\d+)\]")
_MSG_NAME = re.compile(r"msg_name=(\{[^}]*\})")
_IOV_BASE = re.compile(r'iov_base=("(?:[^"\\]|\\.)*"(?:\.\.\.)?)')
FAMILIES = {"AF_INET": "inet", "AF_INET6": "inet6", "AF_UNIX": "unix"}


@dataclass(frozen=True)
class SocketAddress:
    family: str
    """``inet``, ``inet6`` or ``unix``."""
    address: str
    port: int | None = None

    def __str__(self) -> str:
        if self.port is None:
            return self.address
        host = f"[{self.address}]" if self.family == "inet6" else self.address
        return f"{host}:{self.port}"


def parse_sockaddr(arg: str) -> SocketAddress | None:
    """``{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}``."""
    family = _FAMILY.search(arg)
    if not family or family[1] not in FAMILIES:
        return None
    kind = FAMILIES[family[1]]
    if kind == "unix":
        path = _UNIX.search(arg)
        if not path:
            return SocketAddress(kind, "")
        return SocketAddress(kind, path[1] + decode_text(path[2]))
    port = _PORT.search(arg)
    address = (_INET if kind == "inet" else _INET6).search(arg)
    return SocketAddress(kind, address[1] if address else "", int(port[1]) if port else None)


def socket_inode(arg: str) -> str | None:
    """The socket's inode from a ``-y`` decoration (``3<socket:[57]>``): a stable key."""
    match = _SOCKET_FD.search(arg)
    return match[1] if match else None


def message_payloads(name: str, args: tuple[str, ...]) -> list[bytes]:
    """What a send call carried (as far as ``-s`` printed it)."""
    if name in {"sendto", "send", "write"} and len(args) > 1:
        return [decode_string(args[1])]
    if name in {"sendmsg", "sendmmsg", "writev"} and len(args) > 1:
        return [decode_string(text) for text in _IOV_BASE.findall(args[1])]
    return []


def message_destination(name: str, args: tuple[str, ...]) -> SocketAddress | None:
    """An explicit destination (unconnected UDP): sendto's 5th argument or ``msg_name``."""
    if name == "sendto" and len(args) > 4:
        return parse_sockaddr(args[4])
    if name in {"sendmsg", "sendmmsg"} and len(args) > 1:
        found = _MSG_NAME.search(args[1])  # a sockaddr holds no nested braces
        return parse_sockaddr(found[1]) if found else None
    return None
