"""Starting, reusing, inspecting and stopping the servers of one state dir.

`up` keeps a recorded server when its PID is alive, runs our binary in our dir and
answers; anything else recorded is stale: stopped if it is ours, then started again,
on its previous port when that port is still free.
"""

import asyncio
import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from packguard.devstack.base_image import ensure_base_image
from packguard.devstack.component import Component
from packguard.devstack.docker_engine import (
    EnginePaths,
    ensure_docker_engine,
    private_engine_pid,
    stop_private_engine,
)
from packguard.devstack.engine_api import ping_engine
from packguard.devstack.environment import connection_env, write_env_file
from packguard.devstack.errors import ComponentFailed
from packguard.devstack.failures import raise_any
from packguard.devstack.layout import StateLayout, default_state_dir
from packguard.devstack.locks import hold_lock
from packguard.devstack.ports import (
    GRPC_OFFSET,
    PortRequest,
    choose_ports,
    is_port_free,
    random_candidates,
)
from packguard.devstack.postgres_server import PostgresServer, remove_relocated_cluster
from packguard.devstack.processes import is_ours, is_running, terminate, wait_exit
from packguard.devstack.redis_server import RedisServer
from packguard.devstack.running_stack import ComponentStatus, RunningStack
from packguard.devstack.s3_server import S3Server
from packguard.devstack.services import services_status, stop_services
from packguard.devstack.state_file import ComponentRecord, StackState, load_state, save_state
from packguard.devstack.system_packages import AptInstaller

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 60.0
LOCK_TIMEOUT_SECONDS = 300.0
LAUNCHER_EXIT_SECONDS = 5.0
PORT_RELEASE_SECONDS = 10.0


def stack_components() -> tuple[Component, ...]:
    return (RedisServer(), PostgresServer(), S3Server())


async def start_stack(
    state_dir: Path | None = None,
    free_ports: bool = True,
    with_docker: bool = True,
    *,
    timeout: float = START_TIMEOUT_SECONDS,
    engine_paths: EnginePaths | None = None,
) -> RunningStack:
    """Start (or reuse) redis, postgres and s3 in `state_dir`, plus the engine and base image.

    `free_ports=False` prefers the dev defaults (16379, 15432, 18333); either way a
    restarted server gets its previous port back when that port is free.
    """
    layout = _layout(state_dir)
    layout.create()
    apt = AptInstaller(layout.log_file("apt"))
    async with hold_lock(layout.lock_file, timeout=LOCK_TIMEOUT_SECONDS, what=str(layout.root)):
        state = load_state(layout)
        components = stack_components()
        kept = await _reusable_records(components, layout, state)
        to_start = [c for c in components if c.name not in kept]
        await asyncio.gather(
            *(
                _stop(c, layout, state.components[c.name])
                for c in to_start
                if c.name in state.components
            )
        )
        ports = _plan_ports(to_start, state, kept, free_ports=free_ports)
        engine = (
            asyncio.create_task(ensure_docker_engine(engine_paths, apt=apt))
            if with_docker
            else None
        )
        outcomes = await asyncio.gather(
            *(c.start(layout, ports[c.name], timeout) for c in to_start), return_exceptions=True
        )
        started = {
            c.name: o
            for c, o in zip(to_start, outcomes, strict=True)
            if isinstance(o, ComponentRecord)
        }
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        docker_host = None
        if engine is not None:
            try:
                docker_host = await engine
            except Exception as error:  # re-raised below, once the state is saved
                errors.append(error)
        save_state(layout, StackState({**kept, **started}, docker_host))
        raise_any(errors)
    for name, record in {**kept, **started}.items():
        verb = "reusing" if name in kept else "started"
        log.info("%s: %s pid %d on port %d", name, verb, record.pid, record.port)
    base_image = None
    if docker_host is not None:
        base_image = await ensure_base_image(
            docker_host, log_path=layout.log_file("base-image"), apt=apt
        )
    stack = RunningStack(
        state_dir=layout.root,
        components={**kept, **started},
        docker_host=docker_host,
        base_image=base_image,
        reused=frozenset(kept),
    )
    write_env_file(layout.env_file, connection_env(stack))
    return stack


async def stop_stack(
    state_dir: Path | None = None,
    *,
    with_docker: bool = False,
    purge: bool = False,
    engine_paths: EnginePaths | None = None,
) -> None:
    """Stop the services, then the servers of `state_dir` (SIGTERM, SIGKILL after 10 s).

    The shared private dockerd keeps running unless `with_docker`; `purge` also deletes
    the state dir and any cluster kept outside it.
    """
    layout = _layout(state_dir)
    if layout.root.is_dir():
        async with hold_lock(layout.lock_file, timeout=LOCK_TIMEOUT_SECONDS, what=str(layout.root)):
            # Services first: they would fail (and log) against vanished servers.
            await stop_services(layout.root)
            state = load_state(layout)
            await asyncio.gather(
                *(
                    _stop(c, layout, state.components[c.name])
                    for c in stack_components()
                    if c.name in state.components
                )
            )
            save_state(layout, StackState())
            layout.env_file.unlink(missing_ok=True)
    if with_docker:
        await stop_private_engine(engine_paths)
    if purge:
        remove_relocated_cluster(layout.root)
        shutil.rmtree(layout.root, ignore_errors=True)


async def stack_status(
    state_dir: Path | None = None, *, engine_paths: EnginePaths | None = None
) -> list[ComponentStatus]:
    """What runs for `state_dir`, probing each recorded server and service once; docker last
    if recorded."""
    layout = _layout(state_dir)
    state = load_state(layout)
    statuses = await asyncio.gather(
        *(_status(c, layout, state.components.get(c.name)) for c in stack_components())
    )
    result = [*statuses, *await services_status(layout.root)]
    if state.docker_host:
        paths = engine_paths or EnginePaths.from_env()
        pid = private_engine_pid(paths) if state.docker_host == paths.host else None
        answering = await ping_engine(state.docker_host)
        result.append(
            ComponentStatus(
                "docker", "running" if answering else "stopped", pid=pid, detail=state.docker_host
            )
        )
    return result


async def stop_server(name: str, state_dir: Path | None = None) -> None:
    """Stop one server and keep its record: `start_server` brings it back on the same
    ports and data dir (an outage in a chaos run, a restart after a config change)."""
    layout = _layout(state_dir)
    component = _component(name)
    async with hold_lock(layout.lock_file, timeout=LOCK_TIMEOUT_SECONDS, what=str(layout.root)):
        await _stop(component, layout, _recorded(load_state(layout), layout, name))


async def start_server(
    name: str, state_dir: Path | None = None, *, timeout: float = START_TIMEOUT_SECONDS
) -> ComponentRecord:
    """Start a stopped server again on its recorded ports and data dir (AOF, cluster and
    objects included); a running one is left alone. Raises ComponentFailed when a port
    stays taken, rather than moving the server where its clients cannot find it."""
    layout = _layout(state_dir)
    component = _component(name)
    async with hold_lock(layout.lock_file, timeout=LOCK_TIMEOUT_SECONDS, what=str(layout.root)):
        state = load_state(layout)
        record = _recorded(state, layout, name)
        if _is_ours_and_alive(component, layout, record) and await component.is_answering(record):
            return record
        await _stop(component, layout, record)  # alive but not answering: start afresh
        ports = _recorded_ports(component, record)
        await _wait_ports_free(component, ports)
        started = await component.start(layout, ports, timeout)
        save_state(layout, StackState({**state.components, name: started}, state.docker_host))
    log.info("%s: restarted as pid %d on port %d", name, started.pid, started.port)
    return started


async def restart_server(
    name: str, state_dir: Path | None = None, *, timeout: float = START_TIMEOUT_SECONDS
) -> ComponentRecord:
    """Stop one server (its stop signal, SIGKILL after a grace period) and start it again."""
    await stop_server(name, state_dir)
    return await start_server(name, state_dir, timeout=timeout)


def read_running_stack(state_dir: Path | None = None) -> RunningStack | None:
    """The recorded stack if every server's PID is alive and ours; no probes, no changes."""
    layout = _layout(state_dir)
    state = load_state(layout)
    components = stack_components()
    for component in components:
        record = state.components.get(component.name)
        if record is None or not _is_ours_and_alive(component, layout, record):
            return None
    return RunningStack(
        state_dir=layout.root,
        components={c.name: state.components[c.name] for c in components},
        docker_host=state.docker_host,
    )


def _layout(state_dir: Path | None) -> StateLayout:
    # Absolute, since servers get these paths after changing into their own dirs.
    return StateLayout((state_dir or default_state_dir()).absolute())


async def _reusable_records(
    components: Sequence[Component], layout: StateLayout, state: StackState
) -> dict[str, ComponentRecord]:
    async def is_reusable(component: Component) -> bool:
        record = state.components.get(component.name)
        return (
            record is not None
            and _is_ours_and_alive(component, layout, record)
            and await component.is_answering(record)
        )

    verdicts = await asyncio.gather(*(is_reusable(c) for c in components))
    return {
        c.name: state.components[c.name] for c, ok in zip(components, verdicts, strict=True) if ok
    }


def _component(name: str) -> Component:
    for component in stack_components():
        if component.name == name:
            return component
    raise ValueError(f"unknown server {name!r}")


def _recorded(state: StackState, layout: StateLayout, name: str) -> ComponentRecord:
    record = state.components.get(name)
    if record is None:
        raise ComponentFailed(f"{name} was never started in {layout.root}")
    return record


async def _wait_ports_free(component: Component, ports: Mapping[str, int]) -> None:
    """Wait briefly for every port (and its gRPC twin) a stopped server held to be free."""
    offsets = {
        s.name: (0, GRPC_OFFSET) if s.with_grpc_offset else (0,) for s in component.port_specs
    }
    wanted = [port + offset for name, port in ports.items() for offset in offsets[name]]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PORT_RELEASE_SECONDS
    while busy := [port for port in wanted if not is_port_free(port)]:
        if loop.time() >= deadline:
            raise ComponentFailed(f"{component.name}: port(s) {busy} still taken; not restarting")
        await asyncio.sleep(0.1)


def _plan_ports(
    to_start: Sequence[Component],
    state: StackState,
    kept: Mapping[str, ComponentRecord],
    *,
    free_ports: bool,
) -> dict[str, dict[str, int]]:
    """Ports per component: previous ones first, then defaults (dev) or random free ones."""
    reserved: set[int] = set()
    for record in kept.values():
        for port in (record.port, *record.extra_ports.values()):
            reserved.update({port, port + GRPC_OFFSET})
    requests = []
    for component in to_start:
        previous = _recorded_ports(component, state.components.get(component.name))
        for spec in component.port_specs:
            fallback = None if free_ports else spec.default
            requests.append(
                PortRequest(
                    f"{component.name}.{spec.name}",
                    preferred=previous.get(spec.name, fallback),
                    with_grpc_offset=spec.with_grpc_offset,
                )
            )
    chosen = choose_ports(requests, is_port_free, random_candidates(), reserved)
    for request in requests:
        if request.preferred is not None and chosen[request.name] != request.preferred:
            log.info(
                "%s: port %d (or its +%d) is busy, using %d",
                request.name, request.preferred, GRPC_OFFSET, chosen[request.name],
            )  # fmt: skip
    return {
        c.name: {spec.name: chosen[f"{c.name}.{spec.name}"] for spec in c.port_specs}
        for c in to_start
    }


def _recorded_ports(component: Component, record: ComponentRecord | None) -> dict[str, int]:
    if record is None:
        return {}
    client_port = component.port_specs[0].name
    return {client_port: record.port, **record.extra_ports}


def _is_ours_and_alive(component: Component, layout: StateLayout, record: ComponentRecord) -> bool:
    return is_running(record.pid) and is_ours(
        record.pid, component.executable(), component.working_dir(layout, record)
    )


async def _stop(component: Component, layout: StateLayout, record: ComponentRecord) -> None:
    if _is_ours_and_alive(component, layout, record):
        log.info("%s: stopping pid %d", component.name, record.pid)
        await terminate(record.pid, stop_signal=component.stop_signal)
        # runuser stays parent of postgres until it exits; collect it too.
        if record.launcher_pid is not None and record.launcher_pid != record.pid:
            await wait_exit(record.launcher_pid, LAUNCHER_EXIT_SECONDS)
    elif is_running(record.pid):
        log.warning("%s: pid %d is no longer ours; leaving it alone", component.name, record.pid)


async def _status(
    component: Component, layout: StateLayout, record: ComponentRecord | None
) -> ComponentStatus:
    if record is None:
        return ComponentStatus(component.name, "stopped")
    if not _is_ours_and_alive(component, layout, record):
        return ComponentStatus(component.name, "stopped", detail=f"stale pid {record.pid}")
    answering = await component.is_answering(record)
    return ComponentStatus(
        component.name,
        "running" if answering else "unresponsive",
        pid=record.pid,
        port=record.port,
        detail=f"logs: {layout.log_file(component.name)}",
    )
