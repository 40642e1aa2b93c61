"""Run one ``Step`` under ``strace -f``, parsing the trace while it runs.

The trace goes through a pipe, not a file: the package runs as the analyzer's own uid and
could rewrite a trace file, but cannot take back lines already read (it could add some:
the same uid reaches strace's descriptors through /proc; only a second uid would close
that). stdout and stderr are kept as short tails. When the step ends (or its time is up)
its whole session is killed; inside the container, where the analyzer is PID 1 of its
own namespace, so is every other process, so nothing the package started outlives the
phase or sees the report being written. Elsewhere (tests) a process that starts its own
session escapes the kill.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO

from packguard.analyzer.dynamic.activity import Activity, ActivityBuilder, TraceScope
from packguard.analyzer.dynamic.strace import ProcessExit, StraceParser
from packguard.analyzer.ecosystems.base import Step

STRACE = "strace"
# The step runs as the OOM killer's first choice (choom, util-linux): a memory bomb in
# package code takes itself down rather than the analyzer (PID 1), and the report says
# so. Package code may lower its score back to the analyzer's, never below it.
OOM_FIRST = ("choom", "-n", "1000", "--")
# What rules read: programs run, files opened/created/removed, sockets used.
TRACED_SYSCALLS = (
    "execve,execveat,fork,vfork,clone,clone3,"
    "open,openat,openat2,creat,truncate,unlink,unlinkat,rmdir,rename,renameat,renameat2,"
    "mkdir,mkdirat,chmod,fchmodat,link,linkat,symlink,symlinkat,"
    "socket,connect,bind,listen,sendto,sendmsg,sendmmsg"
)
STRING_LIMIT = 256
TAIL_BYTES = 2048
MAX_TRACE_LINES = 2_000_000
LINGER_SECONDS = 3.0
_DRAIN_SECONDS = 5.0
_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class TracedStep:
    label: str
    command: str
    exit_code: int | None
    timed_out: bool
    duration_ms: int
    activity: Activity
    stdout_tail: str
    stderr_tail: str
    trace_lines: int
    trace_complete: bool
    """False when the trace was cut (line cap, or a writer kept the pipe open)."""
    lingering: bool = False
    """Processes the step started were still running after its own process ended."""


def strace_command(step: Step, trace_fd: int) -> list[str]:
    return [
        STRACE,
        "-f",
        "-q",
        "-tt",
        "-y",
        "-s",
        str(STRING_LIMIT),
        # Only the traced calls stop the tracee: the rest run at full speed.
        "--seccomp-bpf",
        "-e",
        f"trace={TRACED_SYSCALLS}",
        "-e",
        "signal=none",
        "-o",
        f"/proc/self/fd/{trace_fd}",
        "--",
        *step.argv,
    ]


def run_traced(
    step: Step,
    *,
    base_env: Mapping[str, str],
    timeout: float,
    scope: TraceScope,
    linger: float = LINGER_SECONDS,
) -> TracedStep:
    """Run ``step`` under strace for at most ``timeout`` seconds.

    ``strace -f`` waits for every descendant, so a package that leaves a daemon behind
    would hold the step until its timeout: once the step's own process has exited, what
    it started gets ``linger`` seconds (traced) before everything is killed.
    """
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    builder = ActivityBuilder(
        dataclasses.replace(
            scope, tooling_depth=step.tooling_depth, host_programs=step.host_programs
        )
    )
    try:
        process = subprocess.Popen(
            [*(OOM_FIRST if shutil.which(OOM_FIRST[0]) else ()), *strace_command(step, write_fd)],
            cwd=step.cwd,
            env={**base_env, **step.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
    except OSError as error:
        os.close(read_fd)
        os.close(write_fd)
        return _not_started(step, error, builder.finish(), started)
    os.close(write_fd)
    trace = _TraceReader(read_fd, builder)
    assert process.stdout is not None and process.stderr is not None  # created with PIPE
    stdout, stderr = _Tail(process.stdout), _Tail(process.stderr)
    try:
        timed_out = _wait(process, trace, started + max(timeout, 0.1), linger)
    finally:
        lingering = process.poll() is None
        _kill_session(process)
        kill_strays()
    for reader in (trace, stdout, stderr):
        reader.join(_DRAIN_SECONDS)
    exit_code = trace.root_exit_code if trace.root_exited.is_set() else process.returncode
    return TracedStep(
        label=step.label,
        command=shlex.join(step.argv),
        exit_code=None if timed_out else exit_code,
        timed_out=timed_out,
        lingering=lingering and not timed_out,
        duration_ms=int((time.monotonic() - started) * 1000),
        activity=builder.finish(),
        stdout_tail=stdout.text(),
        stderr_tail=stderr.text(),
        trace_lines=trace.lines,
        trace_complete=trace.complete,
    )


def _wait(
    process: subprocess.Popen[bytes], trace: _TraceReader, deadline: float, linger: float
) -> bool:
    """Whether the deadline passed before the step's own process ended."""
    while process.poll() is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        if trace.root_exited.wait(min(remaining, _POLL_SECONDS)):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, min(linger, deadline - time.monotonic())))
            return False
    return False


def kill_strays() -> int:
    """As PID 1 of the sandbox's pid namespace: SIGKILL every other process, reap them.

    Anywhere else (tests, a developer's machine) this does nothing: there the step's
    session is all that is killed.
    """
    if os.getpid() != 1:
        return 0
    killed = 0
    for _ in range(20):  # a forking process may add pids between rounds
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit() and name != "1"]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        _reap()
        time.sleep(0.01)
    return killed


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] != 0:
            pass


def _kill_session(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_DRAIN_SECONDS)


def _not_started(step: Step, error: OSError, activity: Activity, started: float) -> TracedStep:
    return TracedStep(
        label=step.label,
        command=shlex.join(step.argv),
        exit_code=None,
        timed_out=False,
        duration_ms=int((time.monotonic() - started) * 1000),
        activity=activity,
        stdout_tail="",
        stderr_tail=f"cannot start {STRACE}: {error}",
        trace_lines=0,
        trace_complete=False,
    )


class _TraceReader:
    """Feeds the trace pipe to the parser and the builder on a thread."""

    def __init__(self, fd: int, builder: ActivityBuilder) -> None:
        self.lines = 0
        self.complete = False
        self.root_exited = threading.Event()
        self.root_exit_code: int | None = None
        self._builder = builder
        self._stream = os.fdopen(fd, "r", encoding="utf-8", errors="backslashreplace")
        self._thread = threading.Thread(target=self._read, name="trace-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        parser = StraceParser()
        with self._stream:
            for line in self._stream:
                self.lines += 1
                if self.lines > MAX_TRACE_LINES:
                    continue  # drain, so strace never blocks on a full pipe
                event = parser.feed(line, self.lines)
                if event is None:
                    continue
                self._builder.add(event)
                if isinstance(event, ProcessExit) and event.pid == self._builder.root:
                    self.root_exit_code = event.code if event.code is not None else -1
                    self.root_exited.set()
        self.complete = self.lines <= MAX_TRACE_LINES

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class _Tail:
    """The last ``TAIL_BYTES`` of a stream, read on a thread."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._data = bytearray()
        self._stream = stream
        self._thread = threading.Thread(target=self._read, name="output-tail", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with self._stream:
            while chunk := self._stream.read1(65536):  # type: ignore[attr-defined]
                self._data += chunk
                del self._data[:-TAIL_BYTES]

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def text(self) -> str:
        return bytes(self._data).decode("utf-8", "backslashreplace")
