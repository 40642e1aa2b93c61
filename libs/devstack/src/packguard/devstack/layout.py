"""Where a stack keeps its files: one state dir holding data, logs, PIDs and ports."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STATE_DIR_ENV = "PACKGUARD_STATE_DIR"
STATE_DIR_NAME = ".packguard"


def default_state_dir(cwd: Path | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    """`$PACKGUARD_STATE_DIR`, else `<repo>/.packguard` for the git checkout around `cwd`."""
    override = environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).absolute()
    start = (cwd or Path.cwd()).absolute()
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory / STATE_DIR_NAME
    return start / STATE_DIR_NAME


@dataclass(frozen=True)
class StateLayout:
    """Paths inside one state dir; creating them is the only I/O here."""

    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def env_file(self) -> Path:
        """`export K=V` lines for shells and make targets: `source <state>/env`."""
        return self.root / "env"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def pids_dir(self) -> Path:
        return self.root / "pids"

    def data_dir(self, component: str) -> Path:
        return self.root / component

    def log_file(self, component: str) -> Path:
        return self.logs_dir / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.pids_dir / f"{component}.pid"

    def create(self) -> None:
        for directory in (self.root, self.logs_dir, self.pids_dir):
            directory.mkdir(parents=True, exist_ok=True)
