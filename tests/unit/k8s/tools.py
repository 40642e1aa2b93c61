"""Command-line tools the k8s tests need, installed from Debian's packages when missing."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def ensure_tool(binary: str, debian_package: str) -> str:
    """Path of ``binary``; installs ``debian_package`` with apt-get first if needed (root)."""
    found = shutil.which(binary)
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip(f"{binary} is missing and only root may apt-get install {debian_package}")
    command = ["apt-get", "install", "-y", "--no-install-recommends", debian_package]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, capture_output=True, env=env, timeout=600).returncode != 0:
        # A fresh machine may have no package lists yet.
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, timeout=600)
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, f"apt-get install {debian_package} failed:\n{done.stderr}"
    found = shutil.which(binary)
    assert found, f"{debian_package} installed but {binary} is not on PATH"
    return found
