"""The strace parser over recorded lines: shapes strace really prints, and garbage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packguard.analyzer.dynamic.strace import (
    ProcessExit,
    StraceParser,
    Syscall,
    decode_string,
    decode_text,
    decoration,
    parse_lines,
    split_arguments,
    string_list,
)

TRACES = Path(__file__).parent / "traces"


def one(line: str) -> Syscall:
    event = StraceParser().feed(line, 1)
    assert isinstance(event, Syscall), line
    return event


def test_parse_openat_with_fd_decorations_and_result_path() -> None:
    call = one(
        '12    19:06:10.558620 openat(AT_FDCWD</sandbox/scratch/w>, "/sandbox/scratch/x", '
        "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3</sandbox/scratch/x>"
    )
    assert (call.pid, call.time, call.name) == (12, "19:06:10.558620", "openat")
    assert call.args == (
        "AT_FDCWD</sandbox/scratch/w>",
        '"/sandbox/scratch/x"',
        "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC",
        "0666",
    )
    assert (call.result, call.result_path, call.errno, call.ok) == (
        "3",
        "/sandbox/scratch/x",
        None,
        True,
    )


def test_parse_failed_call_keeps_errno() -> None:
    call = one(
        '7 openat(AT_FDCWD</w>, "/etc/shadow", O_RDONLY|O_CLOEXEC) = -1 EACCES (Permission denied)'
    )
    assert (call.result, call.errno, call.ok) == ("-1", "EACCES", False)


def test_parse_quoted_argument_with_commas_parens_and_equals() -> None:
    call = one('15 execve("/bin/sh", ["sh", "-c", "a, b) = 1 \\"q\\""], 0x55 /* 10 vars */) = 0')
    assert string_list(call.args[1]) == ["sh", "-c", 'a, b) = 1 "q"']
    assert call.result == "0"


def test_parse_nested_structures_stay_one_argument() -> None:
    call = one(
        "12 sendmmsg(3<socket:[257403]>, [{msg_hdr={msg_name=NULL, msg_iov=[{iov_base="
        '"rw\\1\\0", iov_len=4}], msg_iovlen=1}, msg_len=4}], 2, MSG_NOSIGNAL) = 2'
    )
    assert len(call.args) == 4
    assert call.args[0] == "3<socket:[257403]>"


def test_unfinished_and_resumed_are_joined_at_the_starting_line() -> None:
    lines = [
        "12 19:21:14.331516 vfork( <unfinished ...>",
        '13 19:21:14.340307 execve("/bin/uname", ["uname"], 0x7ff /* 7 vars */ <unfinished ...>',
        "12 19:21:14.340648 <... vfork resumed>) = 13",
        "13 19:21:14.346037 <... execve resumed>) = 0",
    ]
    events = list(parse_lines(lines))
    assert [(e.name, e.line, e.result) for e in events if isinstance(e, Syscall)] == [
        ("vfork", 1, "13"),
        ("execve", 2, "0"),
    ]


def test_resumed_after_an_expect_comment_still_joins() -> None:
    lines = [
        '58 execve("/s/curl", ["curl", "x"], 0x5 /* 9 vars */ <unfinished ...>  # expect: r',
        "58 <... execve resumed>) = 0",
    ]
    (event,) = parse_lines(lines)
    assert isinstance(event, Syscall) and string_list(event.args[1]) == ["curl", "x"]


def test_exit_and_signal_lines() -> None:
    events = list(parse_lines(["12 +++ exited with 3 +++", "13 +++ killed by SIGKILL +++"]))
    assert events == [
        ProcessExit(pid=12, line=1, code=3),
        ProcessExit(pid=13, line=2, signal="SIGKILL"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "",
        "strace: Process 12 attached",
        "12 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=13} ---",
        '12 openat(AT_FDCWD, "/cut/short',
        "12 <... openat resumed>) = 3",  # resumed without a start
        "# a comment",
    ],
)
def test_lines_that_are_not_syscalls_are_skipped_and_counted(line: str) -> None:
    parser = StraceParser()
    assert parser.feed(line, 1) is None
    assert parser.stats.skipped == 1


def test_decode_string_escapes_octal_hex_and_truncation() -> None:
    assert decode_string('"a\\0b\\x41\\101\\n\\t\\\\"') == b"a\0bAA\n\t\\"
    assert decode_string('"abc"...') == b"abc"
    assert decode_string("NULL") == b""
    assert decode_text('"caf\\303\\251"') == "café"


def test_decoration_of_dirfd_and_plain_arguments() -> None:
    assert decoration("AT_FDCWD</sandbox/scratch/pkg>") == "/sandbox/scratch/pkg"
    assert decoration("3<socket:[57]>") == "socket:[57]"
    assert decoration("AT_FDCWD") is None


def test_split_arguments_reports_what_follows_the_call() -> None:
    assert split_arguments('"x", 1) = 0') == (('"x"', "1"), " = 0")
    assert split_arguments('"unterminated, 1') is None


def test_recorded_pip_install_skips_only_comments_and_call_starts() -> None:
    parser = StraceParser()
    text = (TRACES / "pip-install-sdist.strace").read_text().splitlines()
    events = [parser.feed(line, n) for n, line in enumerate(text, start=1)]
    execs = [e for e in events if isinstance(e, Syscall) and e.name == "execve"]
    assert execs and all(e.pid is not None for e in execs)
    # An unfinished call is reported when it resumes, at the line where it started.
    held = sum(1 for line in text if line.startswith("#") or "<unfinished ...>" in line)
    assert parser.stats.skipped == held


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_parser_never_raises_on_arbitrary_text(line: str) -> None:
    StraceParser().feed(line, 1)
    StraceParser().feed(f"1 00:00:00.1 openat({line}", 1)
    decode_string(f'"{line}"')
