"""Network indicators in text: IP addresses that name a remote host.

Version strings look like addresses (``1.2.3.4``), so only addresses used as hosts count:
a URL's host, ``address:port``, or a quoted string that is exactly an address. Private,
loopback and link-local addresses and the public DNS resolvers that network code probes
(to learn its own address) are not indicators. The documentation ranges (TEST-NET) are:
inert samples stand in for real hosts with them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

# What ``(?<![\w.])`` before the address would say, checked per match: a leading
# look-behind makes the regex engine test it at every position of every file.
_IPV4 = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w.])")
_WORD_OR_DOT = re.compile(r"[\w.]")
_QUOTES = "'\"`"
_PORT = re.compile(r":\d{2,5}\b")
_DOCUMENTATION = tuple(
    ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
_RESOLVERS = frozenset(
    {"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "208.67.222.222", "208.67.220.220"}
)


def is_remote_host(text: str) -> bool:
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        return False
    if any(address in network for network in _DOCUMENTATION):
        return True
    return address.is_global and text not in _RESOLVERS


# A quoted address alone may be a four-part version; as a host the line says so.
_NETWORK_WORDS = re.compile(
    r"host|server|connect|socket|addr|\bip\b|url|http|remote|target|\bc2\b|send|request",
    re.IGNORECASE,
)


def _used_as_host(text: str, start: int, end: int) -> bool:
    """A URL's host (``://``, ``@``), ``address:port``, or exactly a quoted string."""
    if text.endswith("://", 0, start) or text.endswith("@", 0, start):
        return True
    if _PORT.match(text, end):
        return True
    before = text[start - 1] if start else ""
    return before != "" and before in _QUOTES and text.startswith(before, end)


def ip_address_matches(text: str, lowered: str = "") -> Iterator[re.Match[str]]:
    for match in _IPV4.finditer(text):
        start, end = match.span()
        if start and _WORD_OR_DOT.match(text, start - 1):
            continue  # part of a longer token; no address starts inside this one either
        if not _used_as_host(text, start, end) or not is_remote_host(match.group()):
            continue
        line_start = text.rfind("\n", 0, start) + 1
        quoted = start > 0 and text[start - 1] in _QUOTES
        line_end = text.find("\n", end)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if quoted and not _NETWORK_WORDS.search(line):
            continue  # ``__version__ = "1.2.3.4"``, ``('1.0.0.0', ...)``
        yield match
