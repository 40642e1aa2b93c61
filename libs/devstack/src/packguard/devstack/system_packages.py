"""Installing missing Debian packages (docker.io, debootstrap) on a fresh machine."""

import os
from collections.abc import Mapping
from pathlib import Path

from packguard.devstack.binaries import system_binary
from packguard.devstack.commands import run_command
from packguard.devstack.errors import SetupError

APT_TIMEOUT_SECONDS = 900.0


class AptInstaller:
    """Installs the packages behind missing commands; `apt-get update` runs at most once."""

    def __init__(self, log_path: Path) -> None:
        self._log_path = log_path
        self._updated = False

    async def ensure_commands(self, needed: Mapping[str, str]) -> None:
        """Make every command in `needed` (command -> Debian package) available."""
        missing = {cmd: pkg for cmd, pkg in needed.items() if system_binary(cmd) is None}
        if not missing:
            return
        packages = sorted(set(missing.values()))
        if os.geteuid() != 0 or system_binary("apt-get") is None:
            raise SetupError(
                f"{', '.join(sorted(missing))} not found: install {' '.join(packages)} "
                f"(on Debian: apt-get install -y {' '.join(packages)})"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        # Wait for a concurrent apt run instead of failing on its lock.
        lock_wait = ["-o", "DPkg::Lock::Timeout=300"]
        if not self._updated:
            await run_command(
                ["apt-get", *lock_wait, "update"],
                log_path=self._log_path,
                timeout=APT_TIMEOUT_SECONDS,
                env=env,
            )
            self._updated = True
        await run_command(
            ["apt-get", *lock_wait, "install", "-y", *packages],
            log_path=self._log_path,
            timeout=APT_TIMEOUT_SECONDS,
            env=env,
        )
        still_missing = [cmd for cmd in missing if system_binary(cmd) is None]
        if still_missing:
            raise SetupError(
                f"{', '.join(still_missing)} still missing after installing {packages}"
            )
