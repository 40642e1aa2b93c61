"""What each ecosystem tells the dynamic phases: how to install and load a package.

An adapter turns a ``Workspace`` (the artifact, our extraction of it, scratch dirs and the
hook files) into traced ``Step`` values; the dynamic runner does the rest the same way for
every ecosystem. Adding one is a module with one value implementing ``EcosystemPhases``
plus one line in ``ecosystems.PHASES``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from packguard.analyzer.errors import AnalyzerError


class PhaseSetupError(AnalyzerError):
    """The phases could not be prepared (no venv, no package.json): the phase fails."""


@dataclass(frozen=True)
class Step:
    """One command run under strace."""

    label: str
    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    """On top of the phase's base environment (HOME, PATH, TMPDIR, bait variables)."""
    tooling_depth: int = 1
    """The first program of each process shallower than this is ours or the installer's."""
    host_programs: str = ""
    """Regex of the tooling programs at ``tooling_depth - 1`` that run the package's code
    (pip's build hook python, our ``sh -c``, the import driver): what they start is the
    package's doing; what other tooling starts is not."""


@dataclass(frozen=True)
class Workspace:
    artifact: Path
    """The artifact as mounted (read-only)."""
    tree: Path
    """Our safe extraction of it (the static phase is done with it)."""
    root: Path
    """Scratch dir for this artifact's phases (venv, build files)."""
    tmp: Path
    home: Path
    hooks: Path
    """The directory of ``dynamic/hooks`` (stand-ins, import and require drivers)."""
    standin_log: Path
    path: str
    """``PATH`` of the phases: the system's, then stubs of missing network tools."""
    settle_seconds: float = 2.0


class EcosystemPhases(Protocol):
    name: str
    source_globs: tuple[str, ...]
    """The package's code, as tree-relative globs."""

    def prepare(self, workspace: Workspace) -> None:
        """Untraced setup (a venv, hook files). Raises ``PhaseSetupError``."""

    def install_steps(self, workspace: Workspace) -> list[Step]:
        """What installing the package runs: its build hooks or lifecycle scripts."""

    def import_steps(self, workspace: Workspace, *, installed: bool) -> list[Step]:
        """What loading the package runs (Python import, Node require)."""

    def package_paths(self, workspace: Workspace) -> tuple[Path, ...]:
        """Where the package's own files live once installed: writes there are expected,
        reads there are not worth keeping, and stand-ins serve imports made from there."""
