"""Parse ``strace -f -tt -y`` output, from any stream of lines, into ``Syscall`` values.

Expected line shape (``-f`` prefixes the pid, ``-tt`` the time, ``-y`` decorates file
descriptors with what they point at, ``3</etc/passwd>``, including ``AT_FDCWD</cwd>``)::

    12 19:06:10.558620 openat(AT_FDCWD</w>, "x", O_RDONLY) = 3</w/x>
    12 19:06:10.558620 connect(3<socket:[57]>, {sa_family=AF_INET, ...}, 16 <unfinished ...>
    12 19:06:10.559000 <... connect resumed>) = -1 ECONNREFUSED (Connection refused)
    12 19:06:10.576738 +++ exited with 0 +++

Calls split by ``<unfinished ...>`` are joined (per pid) and reported at the line where
they started. Pid and time are optional; lines that are not a syscall (signals, strace's
own messages, a line cut short when the tracer was killed) are skipped and counted, and
text after the result (``# comment``) is ignored. Nothing here raises on odd input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

_PREFIX = re.compile(r"^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+")
_TIME = re.compile(r"^(?P<time>\d{1,2}:\d{2}:\d{2}(?:\.\d+)?)\s+")
_CALL = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)\(")
_RESUMED = re.compile(r"^<\.\.\.\s+(?P<name>[a-z_][a-z0-9_]*)\s+resumed>\s?")
_EXIT = re.compile(r"^\+\+\+ (?:exited with (?P<code>-?\d+)|killed by (?P<signal>SIG\w+)).*\+\+\+")
_RESULT = re.compile(
    r"^\s*=\s*(?P<value>-?\d+|\?|0x[0-9a-f]+)(?P<decoration><[^>]*>)?"
    r"(?:\s+(?P<errno>E[A-Z0-9]+))?"
)
_UNFINISHED = re.compile(r"\s*<unfinished \.\.\.>(?:\s+#.*)?$")
_ESCAPES = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "a": 7, "b": 8, "e": 27}
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_HEX = re.compile(r"[0-9a-fA-F]{1,2}")
_OCTAL = re.compile(r"[0-7]{1,3}")


@dataclass(frozen=True)
class Syscall:
    name: str
    args: tuple[str, ...]
    """Top-level arguments as strace printed them (strings still quoted)."""
    result: str
    """``3``, ``-1``, ``?``; see ``errno`` for failures."""
    pid: int | None = None
    time: str | None = None
    line: int = 0
    errno: str | None = None
    result_path: str | None = None
    """What a returned descriptor points at (``-y``), e.g. the absolute path opened."""

    @property
    def ok(self) -> bool:
        return self.errno is None and not self.result.startswith("-")


@dataclass(frozen=True)
class ProcessExit:
    pid: int | None
    line: int
    code: int | None = None
    signal: str | None = None


@dataclass
class ParseStats:
    lines: int = 0
    skipped: int = 0


@dataclass
class StraceParser:
    """Incremental: feed lines as they arrive, get events back."""

    stats: ParseStats = field(default_factory=ParseStats)
    _pending: dict[int | None, tuple[int, str | None, str, str]] = field(default_factory=dict)

    def feed(self, line: str, number: int) -> Syscall | ProcessExit | None:
        self.stats.lines += 1
        text = line.rstrip("\r\n")
        pid: int | None = None
        match = _PREFIX.match(text)
        if match:
            pid = int(match["pid"])
            text = text[match.end() :]
        time = None
        match = _TIME.match(text)
        if match:
            time = match["time"]
            text = text[match.end() :]
        event = self._event(text, pid, time, number)
        if event is None:
            self.stats.skipped += 1
        return event

    def _event(
        self, text: str, pid: int | None, time: str | None, number: int
    ) -> Syscall | ProcessExit | None:
        exited = _EXIT.match(text)
        if exited:
            code = int(exited["code"]) if exited["code"] is not None else None
            return ProcessExit(pid=pid, line=number, code=code, signal=exited["signal"])
        resumed = _RESUMED.match(text)
        if resumed:
            started = self._pending.pop(pid, None)
            if started is None or started[2] != resumed["name"]:
                return None
            number, time, name, head = started
            return _syscall(name, head + text[resumed.end() :], pid, time, number)
        call = _CALL.match(text)
        if not call:
            return None
        body = text[call.end() :]
        unfinished = _UNFINISHED.search(body)
        if unfinished:
            self._pending[pid] = (number, time, call["name"], body[: unfinished.start()])
            return None
        return _syscall(call["name"], body, pid, time, number)


def parse_lines(lines: Iterable[str]) -> Iterator[Syscall | ProcessExit]:
    """Events of a whole trace, in order; line numbers count from 1."""
    parser = StraceParser()
    for number, line in enumerate(lines, start=1):
        event = parser.feed(line, number)
        if event is not None:
            yield event


def _syscall(name: str, body: str, pid: int | None, time: str | None, line: int) -> Syscall | None:
    """``body`` is everything after ``name(``: the arguments, ``)``, the result."""
    split = split_arguments(body)
    if split is None:
        return None
    args, rest = split
    result = _RESULT.match(rest)
    if not result:
        return None
    decoration = result["decoration"]
    return Syscall(
        name=name,
        args=args,
        result=result["value"],
        pid=pid,
        time=time,
        line=line,
        errno=result["errno"],
        result_path=decoration[1:-1] if decoration else None,
    )


def split_arguments(body: str) -> tuple[tuple[str, ...], str] | None:
    """Top-level arguments up to the closing parenthesis, and the text after it."""
    args: list[str] = []
    stack: list[str] = []
    start = index = 0
    while index < len(body):
        char = body[index]
        if char == '"':
            index = _skip_string(body, index)
            continue
        if char == "<" and index > start and (body[index - 1].isalnum() or body[index - 1] == "]"):
            index = _skip_decoration(body, index)
            continue
        if char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif stack and char == stack[-1]:
            stack.pop()
        elif not stack and char == ")":
            last = body[start:index].strip()
            if last or args:
                args.append(last)
            return tuple(args), body[index + 1 :]
        elif not stack and char == ",":
            args.append(body[start:index].strip())
            start = index + 1
        index += 1
    return None


def _skip_string(body: str, index: int) -> int:
    index += 1
    while index < len(body):
        if body[index] == "\\":
            index += 2
        elif body[index] == '"':
            return index + 1
        else:
            index += 1
    return index


def _skip_decoration(body: str, index: int) -> int:
    """``3</path>``: -y escapes ``<`` and ``>`` inside, so the first ``>`` closes it."""
    end = body.find(">", index)
    return len(body) if end < 0 else end + 1


def is_string(arg: str) -> bool:
    return arg.startswith('"')


def decode_string(arg: str) -> bytes:
    """The bytes of a quoted C string as strace prints it (``"a\\x00b"...`` → b"a\\0b")."""
    text = arg.strip()
    if text.endswith("..."):
        text = text[:-3]
    if not (text.startswith('"') and text.endswith('"') and len(text) >= 2):
        return b""
    inner = text[1:-1]
    out = bytearray()
    index = 0
    while index < len(inner):
        char = inner[index]
        if char != "\\" or index + 1 >= len(inner):
            out += char.encode("utf-8", "surrogateescape")
            index += 1
            continue
        code = inner[index + 1]
        digits = _HEX.match(inner, index + 2) if code == "x" else _OCTAL.match(inner, index + 1)
        if digits:
            out.append(int(digits.group(), 16 if code == "x" else 8) & 0xFF)
            index = digits.end()
        else:
            out.append(_ESCAPES.get(code, ord(code) if ord(code) < 256 else 63))
            index += 2
    return bytes(out)


def decode_text(arg: str) -> str:
    """A quoted string as text (paths, argv); undecodable bytes become ``\\xNN``."""
    return decode_string(arg).decode("utf-8", "backslashreplace")


def decoration(arg: str) -> str | None:
    """``AT_FDCWD</w>`` or ``3</w>`` → ``/w``; ``None`` when the argument has none."""
    match = re.search(r"<(.*)>$", arg.strip())
    return match.group(1) if match else None


def string_list(arg: str) -> list[str]:
    """``["sh", "-c", "x"]`` → ``["sh", "-c", "x"]`` (a trailing ``...`` is dropped)."""
    text = arg.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return []
    split = split_arguments(text[1:-1] + ")")
    if split is None:
        return []
    return [decode_text(item) for item in split[0] if is_string(item)]
