"""Running a short-lived command to completion with its output kept in a log file."""

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from packguard.devstack.errors import DevstackError
from packguard.devstack.readiness import log_tail


async def run_command(
    argv: Sequence[str],
    *,
    log_path: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> None:
    """Run `argv`, appending its output to `log_path`; raise DevstackError unless it exits 0."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(os.environ if env is None else env),
            cwd=cwd,
        )
        try:
            async with asyncio.timeout(timeout):
                code = await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise DevstackError(
                f"{argv[0]} took longer than {timeout:.0f}s; see {log_path}"
            ) from None
    if code != 0:
        raise DevstackError(
            f"{' '.join(argv[:3])} failed with exit code {code}; {log_path} ends with:\n"
            f"{log_tail(log_path)}"
        )
