"""What a stack remembers about its services: `<state>/services.json`.

Kept apart from `state.json`/`pids/`, which the server half of the stack rewrites and
prunes to its own components on every `up` and `down`.
"""

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "services.json"
SERVICES_DIR_NAME = "services"


@dataclass(frozen=True)
class ServiceRecord:
    """One started service: its PID, the port it answers on and what it was started with."""

    pid: int
    port: int
    executable: str
    # Digest of its configuration and code; a different one means "restart it".
    fingerprint: str


def services_file(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def service_dir(state_dir: Path, name: str) -> Path:
    """The service's working directory (how its PID is recognised) and scratch space."""
    return state_dir / SERVICES_DIR_NAME / name


def load_service_records(state_dir: Path) -> dict[str, ServiceRecord]:
    """The recorded services; an unreadable file or entry counts as nothing recorded."""
    try:
        raw = json.loads(services_file(state_dir).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    records = {}
    for name, details in raw.items():
        try:
            records[str(name)] = ServiceRecord(
                pid=int(details["pid"]),
                port=int(details["port"]),
                executable=str(details["executable"]),
                fingerprint=str(details["fingerprint"]),
            )
        except (TypeError, KeyError, ValueError):
            continue
    return records


def save_service_records(state_dir: Path, records: Mapping[str, ServiceRecord]) -> None:
    """Write atomically: a crash mid-write must never hide running services."""
    path = services_file(state_dir)
    if not records:
        path.unlink(missing_ok=True)
        return
    document = {name: asdict(record) for name, record in sorted(records.items())}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
