"""The shape every server of the stack (redis, postgres, s3) has, so the stack treats them alike."""

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from packguard.devstack.layout import StateLayout
from packguard.devstack.ports import PortSpec
from packguard.devstack.state_file import ComponentRecord


class Component(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def port_specs(self) -> tuple[PortSpec, ...]:
        """The ports it listens on; the first one is the port clients use."""
        ...

    @property
    def stop_signal(self) -> int: ...

    def executable(self) -> Path:
        """The binary its recorded PID must run for the PID to count as ours."""
        ...

    def working_dir(self, layout: StateLayout, record: ComponentRecord) -> Path:
        """The cwd its recorded PID must have for the PID to count as ours."""
        ...

    async def start(
        self, layout: StateLayout, ports: Mapping[str, int], timeout: float
    ) -> ComponentRecord:
        """Start it and return once it answers (or raise ComponentFailed)."""
        ...

    async def is_answering(self, record: ComponentRecord) -> bool:
        """One quick readiness probe against a recorded server."""
        ...
