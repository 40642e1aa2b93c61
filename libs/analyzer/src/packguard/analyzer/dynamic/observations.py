"""One phase's activity as flat observations that dynamic rules match on.

An observation knows what a rule asks about it: is this file bait, is this write outside
the package's own places, was this program started by the package (not by us or pip), did
this request carry a planted secret. The ``subject`` is what rule regexes search: a file
path (``~/...`` when under HOME), a command line, an address, a host name.
"""

from __future__ import annotations

import os.path
from dataclasses import dataclass
from typing import Literal

from packguard.analyzer.dynamic.activity import Activity, FileAccess, NetworkAttempt, ProcessRun
from packguard.analyzer.dynamic.bait import Bait

Kind = Literal["process", "file", "connect", "dns", "http", "tls", "sent", "limit"]
KINDS: tuple[Kind, ...] = ("process", "file", "connect", "dns", "http", "tls", "sent", "limit")
_SNIPPET_CHARS = 200
# Writes here are the runtime's business or scratch space every tool may use (droppers
# staging in /tmp are caught when they run what they wrote).
_SCRATCH_PREFIXES = ("/tmp/", "/var/tmp/")  # noqa: S108 - paths we classify, not use
_UNREMARKABLE_PREFIXES = ("/dev/", "/proc/self/", "/proc/thread-self/", *_SCRATCH_PREFIXES)
_LOOPBACK = ("127.", "::1", "::ffff:127.")


@dataclass(frozen=True)
class PhaseContext:
    phase: str
    bait: Bait
    package_paths: tuple[str, ...] = ()
    """Where the package and its installer may write (venv, package dir, TMPDIR)."""


@dataclass(frozen=True)
class Observation:
    kind: Kind
    phase: str
    syscall: str
    snippet: str
    subject: str
    line: int | None = None
    program: str = ""
    access: str = ""
    ok: bool = True
    package_spawned: bool = False
    dropped: bool = False
    bait: bool = False
    outside: bool = False
    remote: bool = False
    path: str = ""
    """Files: the absolute path."""
    family: str = ""
    address: str = ""
    port: int | None = None


def observe(activity: Activity, context: PhaseContext) -> list[Observation]:
    found: list[Observation] = []
    found += [_process(run, context) for run in activity.processes]
    found += [_file(access, context) for access in activity.files]
    found += [_connect(attempt, context) for attempt in activity.network]
    for lookup in activity.dns:
        found.append(
            Observation(
                "dns",
                context.phase,
                "dns",
                f"lookup {lookup.name} ({lookup.qtype})",
                lookup.name,
                lookup.line,
            )
        )
        if context.bait.tokens_in(lookup.name.encode()):
            found.append(_sent(context, "dns", f"bait in DNS name {lookup.name}", lookup.line))
    for seen in activity.http:
        request = seen.request
        text = f"{request.method} {request.host}{request.path} ({request.version})"
        found.append(
            Observation("http", context.phase, "http", _cap(text), request.host, seen.line)
        )
        if context.bait.tokens_in(seen.payload or request.path.encode()):
            found.append(_sent(context, "http", f"bait sent in {text}", seen.line))
    for tls in activity.tls:
        text = f"TLS ClientHello for {tls.server_name or '(no SNI)'} on port {tls.port}"
        found.append(Observation("tls", context.phase, "tls", text, tls.server_name, tls.line))
    for payload in activity.raw_payloads:
        if context.bait.tokens_in(payload):
            found.append(_sent(context, "send", f"bait sent: {payload[:80]!r}", None))
    for hit in activity.limits:
        text = _cap(f"{hit.resource} limit: {hit.detail}")
        found.append(Observation("limit", context.phase, hit.syscall, text, hit.resource, hit.line))
    return found


def _process(run: ProcessRun, context: PhaseContext) -> Observation:
    outcome = "" if run.ok else " (failed)"
    return Observation(
        kind="process",
        phase=context.phase,
        syscall="execve",
        snippet=_cap(f"{run.command}{outcome}"),
        subject=run.command,
        line=run.line,
        program=run.program,
        ok=run.ok,
        package_spawned=not run.tooling,
        dropped=run.dropped,
    )


def _file(access: FileAccess, context: PhaseContext) -> Observation:
    path = access.path
    bait = context.bait
    is_bait = bait.is_bait(path) or (access.access == "list" and bait.is_bait_dir(path))
    outcome = "" if access.ok else f" ({access.errno or 'failed'})"
    return Observation(
        kind="file",
        phase=context.phase,
        syscall=access.syscall,
        snippet=_cap(f"{access.access} {path}{outcome}"),
        subject=_home_relative(path, str(bait.home)),
        line=access.line,
        access=access.access,
        ok=access.ok,
        bait=is_bait,
        outside=access.access in {"write", "delete"} and _is_outside(path, context),
        path=path,
    )


def _connect(attempt: NetworkAttempt, context: PhaseContext) -> Observation:
    destination = attempt.destination
    outcome = "" if attempt.ok else f" ({attempt.errno or 'failed'})"
    return Observation(
        kind="connect",
        phase=context.phase,
        syscall=attempt.syscall,
        snippet=_cap(f"{attempt.syscall} {destination.family} {destination}{outcome}"),
        subject=str(destination),
        line=attempt.line,
        ok=attempt.ok,
        remote=destination.family != "unix" and not destination.address.startswith(_LOOPBACK),
        family=destination.family,
        address=destination.address,
        port=destination.port,
    )


def _sent(context: PhaseContext, syscall: str, text: str, line: int | None) -> Observation:
    return Observation("sent", context.phase, syscall, _cap(text), text, line, bait=True)


def _is_outside(path: str, context: PhaseContext) -> bool:
    if not path.startswith("/") or path.startswith(_UNREMARKABLE_PREFIXES):
        return False
    return not any(_is_under(path, root) for root in context.package_paths)


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(os.path.join(root, ""))


def _home_relative(path: str, home: str) -> str:
    if _is_under(path, home):
        return "~" + path[len(home) :]
    return path


def _cap(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 1] + "…"
