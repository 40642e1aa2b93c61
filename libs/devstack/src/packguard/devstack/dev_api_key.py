"""The dev stack's admin API key: created once with `packguard apikey create`, kept in
`<state>/dev-api-key` (0600) and reused for as long as the gateway accepts it."""

import asyncio
import logging
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from packguard.devstack.errors import DevstackError, SetupError
from packguard.devstack.readiness import log_tail

log = logging.getLogger(__name__)

FILE_NAME = "dev-api-key"
KEY_NAME = "dev"
CREATE_TIMEOUT_SECONDS = 60.0
CHECK_TIMEOUT_SECONDS = 5.0
# Any route behind the key check does; this one only reads a queue length.
AUTHENTICATED_PATH = "/api/v1/queue/status/"


def key_file(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def read_dev_api_key(state_dir: Path) -> str | None:
    try:
        key = key_file(state_dir).read_text().strip()
    except OSError:
        return None
    return key or None


def write_dev_api_key(state_dir: Path, key: str) -> None:
    """Atomically, readable by the owner only (it is an admin credential)."""
    path = key_file(state_dir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)  # in case a stale tmp file had another mode
        handle.write(f"{key}\n")
    tmp.replace(path)


async def ensure_dev_api_key(
    state_dir: Path, database_url: str, *, log_path: Path
) -> tuple[str, bool]:
    """The recorded key, or a new admin key named `dev`; True when it was just created."""
    existing = read_dev_api_key(state_dir)
    if existing is not None:
        return existing, False
    return await create_dev_api_key(state_dir, database_url, log_path=log_path), True


async def create_dev_api_key(state_dir: Path, database_url: str, *, log_path: Path) -> str:
    """Run `packguard apikey create --name dev --admin` and record the key it prints."""
    argv = [str(_packguard_cli()), "apikey", "create", "--name", KEY_NAME, "--admin"]
    key = await _run_for_output(argv, {**os.environ, "DATABASE_URL": database_url}, log_path)
    write_dev_api_key(state_dir, key)
    log.info("created the dev API key (kept in %s)", key_file(state_dir))
    return key


async def is_key_accepted(gateway_url: str, key: str) -> bool:
    """False only when the gateway answers 401 (unknown or revoked key)."""
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(
                f"{gateway_url}{AUTHENTICATED_PATH}", headers={"Authorization": f"Bearer {key}"}
            ) as response,
        ):
            return response.status != 401
    except (aiohttp.ClientError, OSError, TimeoutError):
        return True  # cannot tell; keep the key rather than mint one per failed probe


def _packguard_cli() -> Path:
    """The `packguard` command of this interpreter's venv (libs/cli), else the one on PATH."""
    beside = Path(sys.executable).parent / "packguard"
    if beside.is_file():
        return beside
    found = shutil.which("packguard")
    if found is None:
        raise SetupError(
            f"the packguard CLI (libs/cli) is not installed in {sys.prefix}: run `make venv`"
        )
    return Path(found)


async def _run_for_output(argv: list[str], env: Mapping[str, str], log_path: Path) -> str:
    """Run `argv` and return the last line of its stdout (the key, never logged)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        log_file.write(f"$ {' '.join(argv)}\n".encode())
        log_file.flush()
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
            env=dict(env),
        )
        try:
            async with asyncio.timeout(CREATE_TIMEOUT_SECONDS):
                stdout, _ = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise DevstackError(
                f"{argv[0]} apikey create took over {CREATE_TIMEOUT_SECONDS:.0f}s; see {log_path}"
            ) from None
    # The key is the last line; anything before it (a migration log event on a fresh
    # database) goes to the log, never a key.
    lines = [line.strip() for line in stdout.decode(errors="replace").splitlines() if line.strip()]
    with log_path.open("a") as log_file:
        log_file.writelines(f"{line}\n" for line in lines[:-1])
    if process.returncode != 0 or not lines or " " in lines[-1]:
        raise DevstackError(
            f"creating the dev API key failed (exit code {process.returncode}); "
            f"{log_path} ends with:\n{log_tail(log_path)}"
        )
    return lines[-1]
