"""Registry locations from the ecosystem tooling's own configuration, never literals."""

from __future__ import annotations

import os
import shutil
import subprocess

from packguard.common.errors import DependencyUnavailable


def pypi_index_url(configured: str | None) -> str:
    """The setting, else pip's configured index (PIP_INDEX_URL / pip.conf), else pip's default."""
    if configured:
        return configured
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    from_config = _command_output(["pip", "config", "get", "global.index-url"])
    if from_config:
        return from_config
    try:
        from pip._internal.models.index import PyPI
    except ImportError as exc:
        raise DependencyUnavailable("set PYPI_INDEX_URL: pip is not installed") from exc
    return str(PyPI.simple_url)


def npm_registry_url(configured: str | None) -> str:
    """The setting, else ``npm config get registry``."""
    if configured:
        return configured
    from_npm = _command_output(["npm", "config", "get", "registry"])
    if from_npm and from_npm != "undefined":
        return from_npm
    raise DependencyUnavailable("set NPM_REGISTRY_URL: npm is not installed to ask")


def _command_output(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    output = result.stdout.strip()
    return output if result.returncode == 0 and output else None
