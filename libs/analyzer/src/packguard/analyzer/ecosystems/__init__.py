"""Ecosystem adapters of the dynamic phases, keyed by ecosystem name."""

from __future__ import annotations

from packguard.analyzer.ecosystems.base import EcosystemPhases, PhaseSetupError, Step, Workspace
from packguard.analyzer.ecosystems.npm import NPM
from packguard.analyzer.ecosystems.pypi import PYPI

__all__ = ["PHASES", "EcosystemPhases", "PhaseSetupError", "Step", "Workspace"]

PHASES: dict[str, EcosystemPhases] = {
    "npm": NPM,
    "pypi": PYPI,
}
