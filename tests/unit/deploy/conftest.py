"""Helpers for the deploy tests: the repository's deploy files and its standalone scripts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def _load_script(relative: str) -> ModuleType:
    """Import a standalone script of the repository (not part of any package) by path."""
    path = REPO_ROOT / relative
    name = f"deploy_script_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def healthcheck() -> ModuleType:
    """deploy/images/healthcheck.py, the service images' container health probe."""
    return _load_script("deploy/images/healthcheck.py")


@pytest.fixture(scope="session")
def backup_objects() -> ModuleType:
    """deploy/backup/backup_objects.py, the S3 side of the PostgreSQL backup scripts."""
    return _load_script("deploy/backup/backup_objects.py")
