"""Who started whom in a trace, and whose doing each program was.

A step's own machinery (our ``sh -c`` wrapper, pip, the import driver) is *tooling*; so
is what tooling starts (pip's ``uname``), except below a *host*: the tooling process that
runs the package's code (pip's build-hook python, our ``sh -c``, the driver). Everything a
host starts, and everything a host later ``exec``s in its own pid, is the package's.
"""

from __future__ import annotations

import os.path
import re
from dataclasses import dataclass
from typing import Literal

Role = Literal["tooling", "host", "package"]
_MAX_HOPS = 1024


@dataclass(frozen=True)
class ToolingShape:
    tooling_depth: int = 1
    """The first program of each process shallower than this is the phase's machinery."""
    host_programs: str = ""
    """Regex of the program names at ``tooling_depth - 1`` that run the package's code."""


class ProcessTree:
    def __init__(self, shape: ToolingShape) -> None:
        self.shape = shape
        self.root: int | None = None
        self._parents: dict[int, tuple[int, bool]] = {}
        self._roles: dict[int | None, Role] = {}

    def saw(self, pid: int | None) -> None:
        if self.root is None and pid is not None:
            self.root = pid

    def forked(self, parent: int, child: int, *, thread: bool) -> None:
        self._parents[child] = (parent, thread)

    def depth(self, pid: int | None) -> int:
        """Processes (not threads) between ``pid`` and the root; unknown ones count as the
        package's (at least ``tooling_depth``)."""
        if pid is None or pid == self.root:
            return 0
        depth, current = 0, pid
        for _ in range(_MAX_HOPS):
            if current == self.root:
                return depth
            parent = self._parents.get(current)
            if parent is None:  # never saw its clone
                return max(depth, self.shape.tooling_depth)
            current, is_thread = parent
            depth += 0 if is_thread else 1
        return depth

    def is_tooling(self, pid: int | None, program: str) -> bool:
        """Classify the next program run in ``pid`` (call in trace order)."""
        shape = self.shape
        depth = self.depth(pid)
        if pid not in self._roles and depth < shape.tooling_depth:
            name = os.path.basename(program)
            is_host = depth == shape.tooling_depth - 1 and bool(
                shape.host_programs and re.fullmatch(shape.host_programs, name)
            )
            self._roles[pid] = "host" if is_host else "tooling"
            return True
        owner = pid if pid in self._roles else self._nearest_with_role(pid)
        role = self._roles.setdefault(pid, "package")
        if owner is not None and self._roles[owner] == "tooling" and role != "host":
            self._roles[pid] = "tooling"
            return True
        return False

    def _nearest_with_role(self, pid: int | None) -> int | None:
        for _ in range(_MAX_HOPS):
            parent = self._parents.get(pid) if pid is not None else None
            if parent is None:
                return None
            pid = parent[0]
            if pid in self._roles:
                return pid
        return None
