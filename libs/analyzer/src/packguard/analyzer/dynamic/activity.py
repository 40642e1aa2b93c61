"""What a traced phase did, from its syscalls: processes run, files touched, network
attempts, and the DNS names, HTTP requests and TLS server names in what it sent.

``ActivityBuilder`` takes ``strace`` events one at a time and keeps only what a rule can
use: reads under the phase's quiet prefixes (the interpreter's own libraries, the package's
own files) are counted, not kept, and every list is capped.
"""

from __future__ import annotations

import dataclasses
import os.path
import shlex
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from packguard.analyzer.dynamic import dns_messages
from packguard.analyzer.dynamic.limits import LimitHit
from packguard.analyzer.dynamic.process_tree import ProcessTree, ToolingShape
from packguard.analyzer.dynamic.sockets import (
    SocketAddress,
    message_destination,
    message_payloads,
    parse_sockaddr,
    socket_inode,
)
from packguard.analyzer.dynamic.strace import (
    ProcessExit,
    Syscall,
    decode_text,
    decoration,
    is_string,
    string_list,
)
from packguard.analyzer.dynamic.wire import (
    HttpRequest,
    is_http_request,
    is_tls_client_hello,
    parse_client_hello_sni,
    parse_http_request,
)

FileAccessKind = Literal["read", "write", "delete", "list"]
_T = TypeVar("_T")
MAX_EVENTS = 5000
_COMMAND_CHARS = 300
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
# glibc asks nscd before reading /etc/passwd or resolving: noise on every lookup.
_QUIET_UNIX = frozenset({"/var/run/nscd/socket", "/run/nscd/socket"})
_FORKS = frozenset({"clone", "clone3", "fork", "vfork"})
_OPENS = frozenset({"open", "openat", "openat2", "creat"})
_SENDS = frozenset({"sendto", "sendmsg", "sendmmsg"})
# Path arguments (indexes) written by each call; (dirfd, path) pairs for the *at forms.
_WRITES: dict[str, tuple[tuple[int | None, int], ...]] = {
    "mkdir": ((None, 0),),
    "mkdirat": ((0, 1),),
    "chmod": ((None, 0),),
    "fchmodat": ((0, 1),),
    "truncate": ((None, 0),),
    "link": ((None, 1),),
    "linkat": ((2, 3),),
    "symlink": ((None, 1),),
    "symlinkat": ((1, 2),),
    "rename": ((None, 1),),
    "renameat": ((2, 3),),
    "renameat2": ((2, 3),),
}
_DELETES: dict[str, tuple[int | None, int]] = {
    "unlink": (None, 0),
    "unlinkat": (0, 1),
    "rmdir": (None, 0),
    "rename": (None, 0),
    "renameat": (0, 1),
    "renameat2": (0, 1),
}


@dataclass(frozen=True)
class ProcessRun:
    pid: int | None
    path: str
    argv: tuple[str, ...]
    ok: bool
    line: int
    depth: int = 0
    tooling: bool = False
    """The phase's own machinery (our wrapper, pip, its build hook), not the package."""
    dropped: bool = False
    """The program was written earlier in the same trace: a payload dropped, then run."""

    @property
    def program(self) -> str:
        return os.path.basename(self.argv[0] if self.argv else self.path)

    @property
    def command(self) -> str:
        text = shlex.join(self.argv) if self.argv else self.path
        return text if len(text) <= _COMMAND_CHARS else text[: _COMMAND_CHARS - 1] + "…"


@dataclass(frozen=True)
class FileAccess:
    pid: int | None
    syscall: str
    path: str
    access: FileAccessKind
    ok: bool
    line: int
    errno: str | None = None


@dataclass(frozen=True)
class NetworkAttempt:
    pid: int | None
    syscall: str
    destination: SocketAddress
    ok: bool
    line: int
    errno: str | None = None


@dataclass(frozen=True)
class DnsLookup:
    name: str
    qtype: str
    line: int | None = None
    """The trace line of the query; ``None`` when the sinkhole's resolver recorded it."""


@dataclass(frozen=True)
class HttpSeen:
    request: HttpRequest
    port: int | None
    line: int | None = None
    payload: bytes = field(default=b"", repr=False, compare=False)
    """The bytes received (capped): searched for bait, never reported."""


@dataclass(frozen=True)
class TlsSeen:
    server_name: str
    port: int | None
    line: int | None = None


@dataclass
class Activity:
    processes: list[ProcessRun] = field(default_factory=list)
    files: list[FileAccess] = field(default_factory=list)
    network: list[NetworkAttempt] = field(default_factory=list)
    dns: list[DnsLookup] = field(default_factory=list)
    http: list[HttpSeen] = field(default_factory=list)
    tls: list[TlsSeen] = field(default_factory=list)
    raw_payloads: list[bytes] = field(default_factory=list, repr=False)
    """Other bytes sent to a listener or over a socket (capped): searched for bait."""
    limits: list[LimitHit] = field(default_factory=list)
    """Sandbox limits the phase ran into (sampled around it, not read from the trace)."""
    syscalls: int = 0
    quiet_reads: int = 0
    overflow: int = 0


@dataclass(frozen=True)
class TraceScope:
    quiet_prefixes: tuple[str, ...] = ()
    """Reads under these paths are counted, not kept (the runtime's and package's own)."""
    tooling_depth: int = 1
    host_programs: str = ""
    """Which processes are tooling and which run the package: see ``process_tree``."""
    max_events: int = MAX_EVENTS


@dataclass
class _Pending:
    run: ProcessRun
    written_before: bool


class ActivityBuilder:
    def __init__(self, scope: TraceScope | None = None) -> None:
        self.scope = scope or TraceScope()
        self.activity = Activity()
        self._tree = ProcessTree(ToolingShape(self.scope.tooling_depth, self.scope.host_programs))
        self._runs: list[_Pending] = []
        self._written: set[str] = set()
        self._peers: dict[str, SocketAddress] = {}

    @property
    def root(self) -> int | None:
        """The pid of the step's own process (the first one traced)."""
        return self._tree.root

    def add(self, event: Syscall | ProcessExit) -> None:
        if isinstance(event, ProcessExit):
            return
        self.activity.syscalls += 1
        self._tree.saw(event.pid)
        name = event.name
        if name in {"execve", "execveat"}:
            self._exec(event)
        elif name in _FORKS:
            self._fork(event)
        elif name in _OPENS:
            self._open(event)
        elif name == "connect" or name == "bind":
            self._connect(event)
        elif name in _SENDS:
            self._send(event)
        if name in _DELETES:
            dirfd, index = _DELETES[name]
            self._file(event, self._path(event, dirfd, index), "delete")
        if name in {"mkdir", "mkdirat"} and event.errno == "EEXIST":
            return  # makedirs(exist_ok=True) walking existing parents
        for dirfd, index in _WRITES.get(name, ()):
            self._file(event, self._path(event, dirfd, index), "write")

    def finish(self) -> Activity:
        """Processes get their depth and whose doing they were (see ``process_tree``)."""
        for pending in self._runs:
            run = pending.run
            program = run.argv[0] if run.argv else run.path
            tooling = self._tree.is_tooling(run.pid, program)
            self._append(
                self.activity.processes,
                dataclasses.replace(
                    run,
                    depth=self._tree.depth(run.pid),
                    tooling=tooling,
                    dropped=pending.written_before,
                ),
            )
        return self.activity

    def _exec(self, event: Syscall) -> None:
        offset = 1 if event.name == "execveat" else 0
        if len(event.args) <= offset + 1:
            return
        path = self._path(event, 0 if offset else None, offset) or ""
        argv = tuple(string_list(event.args[offset + 1]))
        last = self._runs[-1] if self._runs else None
        if last and last.run.pid == event.pid and last.run.argv == argv and not last.run.ok:
            # execvp walking $PATH: one program, several attempts
            path = path if event.ok else last.run.path
            run = ProcessRun(event.pid, path, argv, event.ok, last.run.line)
            self._runs[-1] = _Pending(run, last.written_before or path in self._written)
            return
        run = ProcessRun(event.pid, path, argv, event.ok, event.line)
        self._runs.append(_Pending(run, path in self._written))

    def _fork(self, event: Syscall) -> None:
        if event.pid is None or not event.ok or not event.result.isdigit():
            return
        child = int(event.result)
        if child > 0:
            thread = any("CLONE_THREAD" in a for a in event.args)
            self._tree.forked(event.pid, child, thread=thread)

    def _open(self, event: Syscall) -> None:
        if event.name == "creat":
            self._file(event, self._path(event, None, 0), "write")
            return
        dirfd, index = (None, 0) if event.name == "open" else (0, 1)
        flags = event.args[index + 1] if len(event.args) > index + 1 else ""
        access: FileAccessKind = "read"
        if any(flag in flags for flag in _WRITE_FLAGS):
            access = "write"
        elif "O_DIRECTORY" in flags:
            access = "list"
        path = self._path(event, dirfd, index)
        if event.ok and event.result_path and event.result_path.startswith("/"):
            path = event.result_path  # symlinks resolved by the kernel
        self._file(event, path, access)

    def _file(self, event: Syscall, path: str | None, access: FileAccessKind) -> None:
        if not path:
            return
        if access in {"read", "list"} and path.startswith(self.scope.quiet_prefixes):
            self.activity.quiet_reads += 1
            return
        if access == "write" and event.ok:
            self._written.add(path)
        record = FileAccess(event.pid, event.name, path, access, event.ok, event.line, event.errno)
        self._append(self.activity.files, record)

    def _path(self, event: Syscall, dirfd: int | None, index: int) -> str | None:
        if len(event.args) <= index or not is_string(event.args[index]):
            return None
        path = decode_text(event.args[index])
        if path.startswith("/"):
            return os.path.normpath(path)
        base = (
            decoration(event.args[dirfd]) if dirfd is not None and dirfd < len(event.args) else None
        )
        return os.path.normpath(os.path.join(base, path)) if base else path

    def _connect(self, event: Syscall) -> None:
        if len(event.args) < 2:
            return
        destination = parse_sockaddr(event.args[1])
        if destination is None:
            return
        inode = socket_inode(event.args[0])
        if event.name == "connect" and inode:
            self._peers[inode] = destination
        if event.name == "bind" and (destination.family == "unix" or not destination.port):
            return  # only a listener on a chosen port says something
        if destination.address in _QUIET_UNIX or _is_local_resolver(destination):
            return
        ok = event.ok or event.errno == "EINPROGRESS"
        attempt = NetworkAttempt(event.pid, event.name, destination, ok, event.line, event.errno)
        self._append(self.activity.network, attempt)

    def _send(self, event: Syscall) -> None:
        destination = message_destination(event.name, event.args)
        if destination is not None and not _is_local_resolver(destination):
            attempt = NetworkAttempt(
                event.pid, event.name, destination, event.ok, event.line, event.errno
            )
            self._append(self.activity.network, attempt)
        inode = socket_inode(event.args[0]) if event.args else None
        peer = destination or (self._peers.get(inode) if inode else None)
        port = peer.port if peer else None
        for payload in message_payloads(event.name, event.args):
            self._payload(payload, port, event.line)

    def _payload(self, payload: bytes, port: int | None, line: int) -> None:
        if port == 53:
            for question in dns_messages.questions(payload):
                self._append(self.activity.dns, DnsLookup(question.name, question.qtype, line))
            return
        if is_http_request(payload):
            request = parse_http_request(payload)
            if request is not None:
                self._append(self.activity.http, HttpSeen(request, port, line, payload))
                return
        if is_tls_client_hello(payload):
            name = parse_client_hello_sni(payload)
            if name:
                self._append(self.activity.tls, TlsSeen(name, port, line))
            return
        if payload:
            self._append(self.activity.raw_payloads, payload)

    def _append(self, target: list[_T], item: _T) -> None:
        if len(target) >= self.scope.max_events:
            self.activity.overflow += 1
            return
        target.append(item)


def _is_local_resolver(destination: SocketAddress) -> bool:
    return destination.port == 53 and destination.address in {"127.0.0.1", "::1"}
