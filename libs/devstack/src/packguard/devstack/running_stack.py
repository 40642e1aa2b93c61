"""What callers get back: a started stack, or the status of one component."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packguard.devstack.state_file import ComponentRecord

ComponentState = Literal["running", "unresponsive", "stopped"]


@dataclass(frozen=True)
class RunningStack:
    """A stack whose servers answered; `components` is keyed redis, postgres, s3."""

    state_dir: Path
    components: Mapping[str, ComponentRecord]
    docker_host: str | None = None
    base_image: str | None = None
    reused: frozenset[str] = field(default_factory=frozenset)

    @property
    def redis_port(self) -> int:
        return self.components["redis"].port

    @property
    def postgres_port(self) -> int:
        return self.components["postgres"].port

    @property
    def s3_port(self) -> int:
        return self.components["s3"].port


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    state: ComponentState
    pid: int | None = None
    port: int | None = None
    detail: str = ""
