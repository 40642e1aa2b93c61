"""What a stack remembers between runs: PIDs in `pids/<name>.pid`, the rest in `state.json`."""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packguard.devstack.layout import StateLayout


@dataclass(frozen=True)
class ComponentRecord:
    """One running server as recorded: its PID, client port and anything needed to stop it."""

    pid: int
    port: int
    extra_ports: Mapping[str, int] = field(default_factory=dict)
    # runuser stays as the parent of postgres; kept so it can be reaped after a stop.
    launcher_pid: int | None = None
    data_dir: str | None = None


@dataclass(frozen=True)
class StackState:
    components: Mapping[str, ComponentRecord] = field(default_factory=dict)
    docker_host: str | None = None


def load_state(layout: StateLayout) -> StackState:
    """Read the state; a component without a readable PID file counts as not recorded."""
    try:
        raw = json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        raw = {}
    if not isinstance(raw, dict):
        raw = {}
    components: dict[str, ComponentRecord] = {}
    for name, details in dict(raw.get("components") or {}).items():
        pid = read_pid_file(layout.pid_file(name))
        if pid is None or not isinstance(details, dict):
            continue
        record = _record_from_json(pid, details)
        if record is not None:
            components[name] = record
    docker_host = raw.get("docker_host")
    return StackState(components, docker_host if isinstance(docker_host, str) else None)


def save_state(layout: StateLayout, state: StackState) -> None:
    """Write PID files and state.json atomically; forget PID files of absent components."""
    layout.create()
    for name, record in state.components.items():
        _write_atomically(layout.pid_file(name), f"{record.pid}\n")
    for stale in layout.pids_dir.glob("*.pid"):
        if stale.stem not in state.components:
            stale.unlink(missing_ok=True)
    document = {
        "components": {
            name: _record_to_json(record) for name, record in sorted(state.components.items())
        },
        "docker_host": state.docker_host,
    }
    _write_atomically(layout.state_file, json.dumps(document, indent=2, sort_keys=True) + "\n")


def read_pid_file(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def _record_to_json(record: ComponentRecord) -> dict[str, Any]:
    return {
        "port": record.port,
        "extra_ports": dict(record.extra_ports),
        "launcher_pid": record.launcher_pid,
        "data_dir": record.data_dir,
    }


def _record_from_json(pid: int, details: Mapping[str, Any]) -> ComponentRecord | None:
    port = details.get("port")
    extra = details.get("extra_ports") or {}
    launcher = details.get("launcher_pid")
    data_dir = details.get("data_dir")
    if not isinstance(port, int) or not isinstance(extra, dict):
        return None
    return ComponentRecord(
        pid=pid,
        port=port,
        extra_ports={str(k): int(v) for k, v in extra.items()},
        launcher_pid=launcher if isinstance(launcher, int) else None,
        data_dir=data_dir if isinstance(data_dir, str) else None,
    )


def _write_atomically(path: Path, text: str) -> None:
    # A crash mid-write must never leave a half-written file that hides running servers.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
