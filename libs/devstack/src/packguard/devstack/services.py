"""The packguard services as local processes: gateway, scheduler, runner, reporter.

Each runs as `python -m packguard.<name>` (this interpreter, so this venv), detached,
in `<state>/services/<name>/` with its log in `<state>/logs/<name>.log`, on 127.0.0.1.
The gateway listens on PORT (8000 when free in the dev stack), every worker serves
/health/ on its METRICS_PORT. `services.json` records PID, port and a fingerprint of
the service's environment and code: a service that runs, answers and has the same
fingerprint is reused; otherwise it is restarted (e.g. a new analyzer image tag).
"""

import asyncio
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from packguard.devstack.environment import connection_env
from packguard.devstack.errors import SetupError
from packguard.devstack.failures import raise_any
from packguard.devstack.layout import StateLayout
from packguard.devstack.ports import (
    GRPC_OFFSET,
    LOOPBACK,
    PortRequest,
    choose_ports,
    is_port_free,
    random_candidates,
)
from packguard.devstack.processes import STOP_GRACE_SECONDS, is_ours, is_running, spawn_daemon
from packguard.devstack.processes import terminate as terminate_process
from packguard.devstack.readiness import wait_until_ready
from packguard.devstack.running_stack import ComponentStatus, RunningStack
from packguard.devstack.service_records import (
    ServiceRecord,
    load_service_records,
    save_service_records,
    service_dir,
)
from packguard.devstack.source_digest import digest_entries, tree_digest

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 60.0
PROBE_TIMEOUT_SECONDS = 2.0
GATEWAY = "gateway"
GATEWAY_DEFAULT_PORT = 8000
RUNNER_WORK_DIR_NAME = "work"


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service and how to tell that it is up."""

    name: str
    port_variable: str  # the env var it takes its listening port from
    host_variable: str  # ... and its listening address from
    probe_path: str  # answers 200 once the service is up
    default_port: int | None = None  # used in the dev stack when free
    needs_docker: bool = False
    stop_grace: float = STOP_GRACE_SECONDS

    @property
    def module(self) -> str:
        return f"packguard.{self.name}"

    @property
    def source_paths(self) -> tuple[str, ...]:
        return (f"services/{self.name}/src", "libs/common/src")


SERVICES = (
    ServiceSpec(GATEWAY, "PORT", "HOST", "/ready/", default_port=GATEWAY_DEFAULT_PORT),
    ServiceSpec("scheduler", "METRICS_PORT", "METRICS_HOST", "/health/"),
    # Draining on SIGTERM kills and removes a running sandbox container first.
    ServiceSpec(
        "runner", "METRICS_PORT", "METRICS_HOST", "/health/", needs_docker=True, stop_grace=30.0
    ),
    ServiceSpec("reporter", "METRICS_PORT", "METRICS_HOST", "/health/"),
)
SPECS_BY_NAME = {spec.name: spec for spec in SERVICES}


@dataclass(frozen=True)
class RunningServices:
    """Services that answered, keyed by name; `skipped` ones need what the stack lacks."""

    records: Mapping[str, ServiceRecord]
    reused: frozenset[str] = field(default_factory=frozenset)
    skipped: tuple[str, ...] = ()

    @property
    def gateway_url(self) -> str | None:
        gateway = self.records.get(GATEWAY)
        return gateway_url(gateway.port) if gateway else None


def gateway_url(port: int) -> str:
    return f"http://{LOOPBACK}:{port}"


def service_env(
    spec: ServiceSpec,
    connection: Mapping[str, str],
    *,
    state_dir: Path,
    analyzer_image: str | None,
) -> dict[str, str]:
    """What `spec` gets on top of the inherited environment, all but its port.

    Only the runner gets DOCKER_HOST, so a stack without the engine restarts nothing else.
    """
    env = {k: v for k, v in connection.items() if spec.needs_docker or k != "DOCKER_HOST"}
    env.update({"METRICS_PORT": "0", spec.host_variable: LOOPBACK})
    if spec.needs_docker:
        env["ANALYZER_IMAGE"] = analyzer_image or ""
        env["WORK_DIR"] = str(service_dir(state_dir, spec.name) / RUNNER_WORK_DIR_NAME)
    return env


def service_fingerprint(env_without_port: Mapping[str, str], code_digest: str) -> str:
    """Changes when the service's configuration (other than its port) or code changes."""
    entries = [(f"env:{k}", v.encode()) for k, v in env_without_port.items()]
    return digest_entries([*entries, ("code", code_digest.encode())])[:16]


def check_installed(specs: Iterable[ServiceSpec]) -> None:
    """Raise SetupError naming every service this interpreter cannot run with `-m`."""
    missing = [spec.module for spec in specs if not _has_main_module(spec.module)]
    if missing:
        raise SetupError(
            f"cannot start the services: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed in {sys.prefix} "
            "(no __main__.py); install them with `make venv`, or start only the "
            "dependencies with `up --no-services`"
        )


async def start_services(
    stack: RunningStack,
    *,
    repo_root: Path,
    analyzer_image: str | None,
    free_ports: bool = False,
    timeout: float = START_TIMEOUT_SECONDS,
) -> RunningServices:
    """Start (or reuse) every service against `stack`; return once all of them answer.

    The runner needs the engine and an analyzer image; without them it is skipped (and
    stopped if it ran). The caller holds the state dir's lock.
    """
    wanted = [s for s in SERVICES if not s.needs_docker or (stack.docker_host and analyzer_image)]
    skipped = tuple(s.name for s in SERVICES if s not in wanted)
    check_installed(wanted)
    state_dir = stack.state_dir
    recorded = load_service_records(state_dir)
    connection = connection_env(stack)
    envs = {
        spec.name: service_env(spec, connection, state_dir=state_dir, analyzer_image=analyzer_image)
        for spec in wanted
    }
    fingerprints = {
        spec.name: service_fingerprint(envs[spec.name], tree_digest(repo_root, spec.source_paths))
        for spec in wanted
    }
    kept = await _reusable(state_dir, wanted, recorded, fingerprints)
    await asyncio.gather(*(_stop(state_dir, n, r) for n, r in recorded.items() if n not in kept))
    to_start = [spec for spec in wanted if spec.name not in kept]
    ports = _plan_ports(to_start, recorded, _reserved_ports(stack, kept), free_ports=free_ports)
    outcomes = await asyncio.gather(
        *(
            _start(
                spec,
                {**envs[spec.name], spec.port_variable: str(ports[spec.name])},
                state_dir=state_dir,
                fingerprint=fingerprints[spec.name],
                timeout=timeout,
            )
            for spec in to_start
        ),
        return_exceptions=True,
    )
    started = {
        spec.name: outcome
        for spec, outcome in zip(to_start, outcomes, strict=True)
        if isinstance(outcome, ServiceRecord)
    }
    merged = {**kept, **started}
    records = {spec.name: merged[spec.name] for spec in wanted if spec.name in merged}
    save_service_records(state_dir, records)
    raise_any([o for o in outcomes if isinstance(o, BaseException)])
    for name, record in records.items():
        verb = "reusing" if name in kept else "started"
        log.info("%s: %s pid %d on port %d", name, verb, record.pid, record.port)
    for name in skipped:
        log.warning("%s: skipped, it needs the container engine and the analyzer image", name)
    return RunningServices(records, frozenset(kept), skipped)


async def stop_services(state_dir: Path) -> None:
    """Stop every recorded service (SIGTERM, SIGKILL after its grace) and forget them."""
    recorded = load_service_records(state_dir)
    await asyncio.gather(*(_stop(state_dir, name, record) for name, record in recorded.items()))
    save_service_records(state_dir, {})


async def services_status(state_dir: Path) -> list[ComponentStatus]:
    """One status per recorded service, probing each running one once."""
    recorded = load_service_records(state_dir)
    order = [spec.name for spec in SERVICES if spec.name in recorded]
    return list(await asyncio.gather(*(_status(state_dir, n, recorded[n]) for n in order)))


def read_gateway_url(state_dir: Path) -> str | None:
    """The URL of the recorded gateway if its PID is alive and ours; no probe."""
    record = load_service_records(state_dir).get(GATEWAY)
    if record is None or not _is_ours_and_alive(state_dir, GATEWAY, record):
        return None
    return gateway_url(record.port)


async def probe(port: int, path: str) -> bool:
    """True when `http://127.0.0.1:<port><path>` answers 200 (no proxies, no retries)."""
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"http://{LOOPBACK}:{port}{path}") as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, OSError, TimeoutError):
        return False


def _has_main_module(module: str) -> bool:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    locations = (spec.submodule_search_locations or []) if spec else []
    return any((Path(location) / "__main__.py").is_file() for location in locations)


async def _reusable(
    state_dir: Path,
    specs: Sequence[ServiceSpec],
    recorded: Mapping[str, ServiceRecord],
    fingerprints: Mapping[str, str],
) -> dict[str, ServiceRecord]:
    async def is_reusable(spec: ServiceSpec) -> bool:
        record = recorded.get(spec.name)
        return (
            record is not None
            and record.fingerprint == fingerprints[spec.name]
            and _is_ours_and_alive(state_dir, spec.name, record)
            and await probe(record.port, spec.probe_path)
        )

    verdicts = await asyncio.gather(*(is_reusable(spec) for spec in specs))
    return {s.name: recorded[s.name] for s, ok in zip(specs, verdicts, strict=True) if ok}


def _reserved_ports(stack: RunningStack, kept: Mapping[str, ServiceRecord]) -> set[int]:
    reserved = {record.port for record in kept.values()}
    for component in stack.components.values():
        for port in (component.port, *component.extra_ports.values()):
            reserved.update({port, port + GRPC_OFFSET})
    return reserved


def _plan_ports(
    to_start: Sequence[ServiceSpec],
    recorded: Mapping[str, ServiceRecord],
    reserved: set[int],
    *,
    free_ports: bool,
) -> dict[str, int]:
    """The dev default when free (unless `free_ports`), else the previous port, else random."""
    requests = []
    for spec in to_start:
        previous = recorded[spec.name].port if spec.name in recorded else None
        preferred = previous
        default = None if free_ports else spec.default_port
        if default is not None and (previous is None or is_port_free(default)):
            preferred = default
        requests.append(PortRequest(spec.name, preferred=preferred))
    return choose_ports(requests, is_port_free, random_candidates(), reserved)


async def _start(
    spec: ServiceSpec,
    env: Mapping[str, str],
    *,
    state_dir: Path,
    fingerprint: str,
    timeout: float,
) -> ServiceRecord:
    port = int(env[spec.port_variable])
    workdir = service_dir(state_dir, spec.name)
    workdir.mkdir(parents=True, exist_ok=True)
    if "WORK_DIR" in env:
        Path(env["WORK_DIR"]).mkdir(parents=True, exist_ok=True)
    log_path = StateLayout(state_dir).log_file(spec.name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log_file:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        log_file.write(f"=== {stamp} python -m {spec.module} on {LOOPBACK}:{port}\n")
    pid = spawn_daemon(
        [sys.executable, "-m", spec.module],
        cwd=workdir,
        log_path=log_path,
        env={**os.environ, **env},
    )
    try:
        await wait_until_ready(
            lambda: probe(port, spec.probe_path),
            what=f"{spec.name} (pid {pid}, {spec.probe_path} on port {port})",
            timeout=timeout,
            is_alive=lambda: is_running(pid),
            log_path=log_path,
        )
    except BaseException:
        await terminate_process(pid, grace=spec.stop_grace)  # never leave an orphan behind
        raise
    return ServiceRecord(pid=pid, port=port, executable=sys.executable, fingerprint=fingerprint)


def _is_ours_and_alive(state_dir: Path, name: str, record: ServiceRecord) -> bool:
    return (
        is_running(record.pid)
        and is_ours(record.pid, Path(record.executable), service_dir(state_dir, name))
        and _runs_module(record.pid, f"packguard.{name}")
    )


def _runs_module(pid: int, module: str) -> bool:
    """The interpreter's cwd and binary are shared by every service: the argv tells them apart."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return module.encode() in argv


async def _stop(state_dir: Path, name: str, record: ServiceRecord) -> None:
    if _is_ours_and_alive(state_dir, name, record):
        log.info("%s: stopping pid %d", name, record.pid)
        spec = SPECS_BY_NAME.get(name)
        await terminate_process(record.pid, grace=spec.stop_grace if spec else STOP_GRACE_SECONDS)
    elif is_running(record.pid):
        log.warning("%s: pid %d is no longer ours; leaving it alone", name, record.pid)


async def _status(state_dir: Path, name: str, record: ServiceRecord) -> ComponentStatus:
    if not _is_ours_and_alive(state_dir, name, record):
        return ComponentStatus(name, "stopped", detail=f"stale pid {record.pid}")
    spec = SPECS_BY_NAME.get(name)
    answering = spec is not None and await probe(record.port, spec.probe_path)
    log_path = StateLayout(state_dir).log_file(name)
    where = f"{gateway_url(record.port)}; " if name == GATEWAY else ""
    return ComponentStatus(
        name,
        "running" if answering else "unresponsive",
        pid=record.pid,
        port=record.port,
        detail=f"{where}logs: {log_path}",
    )
