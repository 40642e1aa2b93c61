"""Whether a phase drove the sandbox into one of its hard limits.

The container's cgroup counts what its limits refused: processes the kernel killed for
memory (``oom_kill``) and forks refused at the process limit (pids ``max``). A scratch
filesystem left (nearly) full says the package filled the disk. The session samples
these before and after each phase; what grew is a ``LimitHit`` that the
``dynamic-resource-exhaustion`` rule reports.

Reads cgroup v1 and v2 layouts alike. Where the files are missing (outside a container,
under gVisor) the counters read as zero and only the disk check is left.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Resource = Literal["memory", "processes", "disk"]
CGROUP_ROOT = Path("/sys/fs/cgroup")
# (v1 file, v2 file, key) of each counter, relative to the container's cgroup root.
_OOM_KILLS = ("memory/memory.oom_control", "memory.events", "oom_kill")
_REFUSED_FORKS = ("pids/pids.events", "pids.events", "max")
FULL_FRACTION = 0.01
"""A filesystem with less than this share free is full: writes there fail or soon will."""


RESOURCES: tuple[Resource, ...] = ("memory", "processes", "disk")
# What the limit refused, as the evidence's call.
_REFUSED: dict[Resource, str] = {"memory": "oom_kill", "processes": "fork", "disk": "write"}


@dataclass(frozen=True)
class LimitHit:
    resource: Resource
    detail: str
    line: int | None = None
    """A replayed trace's directive line; ``None`` when sampled live."""

    @property
    def syscall(self) -> str:
        return _REFUSED[self.resource]


@dataclass(frozen=True)
class LimitUsage:
    oom_kills: int = 0
    refused_forks: int = 0
    full: tuple[str, ...] = ()


@dataclass(frozen=True)
class LimitProbe:
    """Samples the counters of one container and the fullness of its scratch mounts."""

    filesystems: tuple[Path, ...] = ()
    cgroup_root: Path = CGROUP_ROOT

    def sample(self) -> LimitUsage:
        return LimitUsage(
            oom_kills=_counter(self.cgroup_root, _OOM_KILLS),
            refused_forks=_counter(self.cgroup_root, _REFUSED_FORKS),
            full=tuple(str(path) for path in self.filesystems if is_full(path)),
        )


def limit_hits(before: LimitUsage, after: LimitUsage) -> list[LimitHit]:
    """What the phase between the two samples ran into."""
    hits: list[LimitHit] = []
    killed = after.oom_kills - before.oom_kills
    if killed > 0:
        hits.append(LimitHit("memory", f"{killed} process(es) killed at the memory limit"))
    refused = after.refused_forks - before.refused_forks
    if refused > 0:
        hits.append(LimitHit("processes", f"{refused} fork(s) refused at the pids limit"))
    hits += [
        LimitHit("disk", f"{path} left full") for path in after.full if path not in before.full
    ]
    return hits


def mount_points(paths: Sequence[Path]) -> tuple[Path, ...]:
    """The filesystems ``paths`` are on, each once, named by where they are mounted."""
    found: dict[Path, None] = {}
    for path in paths:
        point = path.absolute()
        while not os.path.ismount(point) and point != point.parent:
            point = point.parent
        found[point] = None
    return tuple(found)


def is_full(path: Path) -> bool:
    try:
        stats = os.statvfs(path)
    except OSError:
        return False
    return stats.f_blocks > 0 and stats.f_bavail < stats.f_blocks * FULL_FRACTION


def _counter(root: Path, where: Sequence[str]) -> int:
    v1, v2, key = where
    for relative in (v1, v2):
        try:
            text = (root / relative).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return int(value)
    return 0
