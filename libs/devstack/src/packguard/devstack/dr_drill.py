"""`make dr-drill`: back up PostgreSQL to S3 and restore it into a fresh server, for real.

Against a local stack of its own (start_stack into a temporary state dir, free ports, no
engine): seed rows through the real migrations, plant two earlier dumps (one past the
30-day retention, one inside it) and a stray object, run deploy/backup/pg-backup.sh,
initdb a second, empty PostgreSQL, run deploy/backup/pg-restore.sh into it (which picks
the newest dump), then compare every table's row count and checksum and check that
retention deleted exactly the expired dump. Exit 0 only when everything matches.

    python -m packguard.devstack.dr_drill [--work-dir D] [--tasks N]
"""

import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from packguard.devstack import postgres_server, s3_server
from packguard.devstack.checkout import find_repo_root
from packguard.devstack.dr_database import (
    CHECKSUM_TABLE,
    TableFingerprint,
    count_tables,
    fingerprint,
    seed_rows,
)
from packguard.devstack.environment import connection_env
from packguard.devstack.errors import DevstackError
from packguard.devstack.layout import StateLayout
from packguard.devstack.ports import (
    GRPC_OFFSET,
    LOOPBACK,
    PortRequest,
    choose_ports,
    is_port_free,
    random_candidates,
)
from packguard.devstack.processes import terminate, wait_exit
from packguard.devstack.running_stack import RunningStack
from packguard.devstack.stack import start_stack, stop_stack

BACKUP_DIR = Path("deploy/backup")
PREFIX = "backups/postgres"
RETENTION_DAYS = 30
SCRIPT_TIMEOUT_SECONDS = 300.0
SERVER_START_SECONDS = 60.0
DEFAULT_TASKS = 3000


@dataclass(frozen=True)
class DrillResult:
    backup_key: str
    restored_key: str
    source: Mapping[str, TableFingerprint]
    restored: Mapping[str, TableFingerprint]
    tables_before_restore: int
    expired_dump: str
    kept_objects: tuple[str, ...]  # planted objects retention must keep
    remaining: Mapping[str, int]  # size of every object under the prefix afterwards
    backup_seconds: float
    restore_seconds: float

    @property
    def problems(self) -> list[str]:
        found = []
        if self.tables_before_restore:
            found.append(f"the restore target was not empty ({self.tables_before_restore})")
        if self.restored_key != self.backup_key:
            found.append(f"restored {self.restored_key}, not the newest {self.backup_key}")
        found += [
            f"{table}: {self.restored.get(table)} != {source}"
            for table, source in self.source.items()
            if self.restored.get(table) != source
        ]
        if self.expired_dump in self.remaining:
            found.append(f"retention kept the expired {self.expired_dump}")
        found += [
            f"retention deleted {key}" for key in self.kept_objects if key not in self.remaining
        ]
        return found


async def run_dr_drill(work_dir: Path, *, tasks: int = DEFAULT_TASKS) -> DrillResult:
    """Run the whole drill in `work_dir`, stopping everything it started."""
    stack = await start_stack(work_dir / "stack", free_ports=True, with_docker=False)
    restore = StateLayout((work_dir / "restore").absolute())
    server = None
    try:
        env = connection_env(stack)
        await seed_rows(env["DATABASE_URL"], tasks=tasks)
        expired, kept = await _plant_objects(stack, datetime.now(UTC))
        source = await fingerprint(env["DATABASE_URL"])
        started = time.monotonic()
        backup_key = await _run_script("pg-backup.sh", env, log=restore.log_file("pg-backup"))
        backup_seconds = time.monotonic() - started

        port = _free_port(stack)
        restore.create()
        server = await postgres_server.PostgresServer().start(
            restore, {postgres_server.NAME: port}, SERVER_START_SECONDS
        )
        target = _database_url(port)
        empty = await count_tables(target)
        started = time.monotonic()
        restored_key = await _run_script(
            "pg-restore.sh",
            {**env, "TARGET_DATABASE_URL": target},
            log=restore.log_file("pg-restore"),
        )
        restore_seconds = time.monotonic() - started
        return DrillResult(
            backup_key=backup_key,
            restored_key=restored_key,
            source=source,
            restored=await fingerprint(target),
            tables_before_restore=empty,
            expired_dump=expired,
            kept_objects=kept,
            remaining=await _list_objects(stack),
            backup_seconds=backup_seconds,
            restore_seconds=restore_seconds,
        )
    finally:
        if server is not None:
            await terminate(server.pid, stop_signal=signal.SIGINT)
            if server.launcher_pid is not None:
                await wait_exit(server.launcher_pid, 5.0)
        postgres_server.remove_relocated_cluster(restore.root)
        await stop_stack(stack.state_dir, purge=True)


async def _plant_objects(stack: RunningStack, now: datetime) -> tuple[str, tuple[str, ...]]:
    """An expired dump, a dump inside retention and a stray object; (expired, kept)."""
    stamp = "%Y%m%dT%H%M%SZ"
    expired = f"{PREFIX}/packguard-{(now - timedelta(days=RETENTION_DAYS + 5)):{stamp}}.dump"
    recent = f"{PREFIX}/packguard-{(now - timedelta(days=RETENTION_DAYS - 1)):{stamp}}.dump"
    stray = f"{PREFIX}/README.txt"
    async with s3_server.s3_client(s3_server.endpoint_url(stack.s3_port)) as client:
        for key in (expired, recent, stray):
            await client.put_object(Bucket=s3_server.BUCKET, Key=key, Body=b"planted by the drill")
    return expired, (recent, stray)


async def _list_objects(stack: RunningStack) -> dict[str, int]:
    async with s3_server.s3_client(s3_server.endpoint_url(stack.s3_port)) as client:
        listing = await client.list_objects_v2(Bucket=s3_server.BUCKET, Prefix=f"{PREFIX}/")
    return {item["Key"]: item["Size"] for item in listing.get("Contents", [])}


async def _run_script(name: str, env: Mapping[str, str], *, log: Path) -> str:
    """Run a deploy/backup script; its last stdout line (the object key)."""
    script = find_repo_root() / BACKUP_DIR / name
    settings = {
        "BACKUP_PREFIX": PREFIX,
        "BACKUP_RETENTION_DAYS": str(RETENTION_DAYS),
        "PG_BIN_DIR": str(postgres_server.PostgresServer().bin_dir()),
        "PYTHON": sys.executable,  # has aiobotocore
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as log_file:
        process = await asyncio.create_subprocess_exec(
            "bash",
            str(script),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
            env={**os.environ, **env, **settings},
        )
        try:
            async with asyncio.timeout(SCRIPT_TIMEOUT_SECONDS):
                stdout, _ = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise DevstackError(f"{name} took over {SCRIPT_TIMEOUT_SECONDS:.0f}s") from None
    lines = stdout.decode().split()
    if process.returncode != 0 or not lines:
        raise DevstackError(f"{name} failed ({process.returncode}); see {log}:\n{log.read_text()}")
    return lines[-1]


def _free_port(stack: RunningStack) -> int:
    taken = {port for record in stack.components.values() for port in _ports(record.port)}
    for record in stack.components.values():
        for port in record.extra_ports.values():
            taken.update(_ports(port))
    chosen = choose_ports([PortRequest("restore")], is_port_free, random_candidates(), taken)
    return chosen["restore"]


def _ports(port: int) -> tuple[int, int]:
    return port, port + GRPC_OFFSET


def _database_url(port: int) -> str:
    user, password = postgres_server.USER, postgres_server.PASSWORD
    return f"postgresql://{user}:{password}@{LOOPBACK}:{port}/{postgres_server.DATABASE}"


def report(result: DrillResult) -> Table:
    table = Table(
        "table", "rows", "restored", "md5", "restored md5", "", title="DR drill", box=box.SIMPLE
    )
    for name, source in result.source.items():
        restored = result.restored.get(name)
        table.add_row(
            name + (" *" if name == CHECKSUM_TABLE else ""),
            str(source.rows),
            str(restored.rows) if restored else "-",
            source.checksum[:10],
            restored.checksum[:10] if restored else "-",
            "ok" if restored == source else "MISMATCH",
        )
    return table


def main(
    work_dir: Annotated[
        Path | None,
        typer.Option("--work-dir", help="Keep state and logs here [default: a temp dir]."),
    ] = None,
    tasks: Annotated[int, typer.Option("--tasks", min=1, help="Tasks to seed.")] = DEFAULT_TASKS,
) -> None:
    """Back up the database to S3, restore it into a fresh PostgreSQL, compare."""
    console = Console()
    directory = work_dir or Path(tempfile.mkdtemp(prefix="packguard-dr-"))
    try:
        result = asyncio.run(run_dr_drill(directory, tasks=tasks))
    except DevstackError as error:
        console.print(f"[red]DR drill failed:[/red] {error}")
        raise typer.Exit(1) from None
    finally:
        if work_dir is None:
            shutil.rmtree(directory, ignore_errors=True)
    console.print(report(result))
    size = result.remaining.get(result.backup_key, 0)
    console.print(
        f"backup  {result.backup_key} ({size} bytes): {result.backup_seconds:.1f}s "
        "(dump + upload + prune)\n"
        f"restore {result.restored_key}: {result.restore_seconds:.1f}s (download + pg_restore)\n"
        f"retention {RETENTION_DAYS} days: deleted {result.expired_dump}, "
        f"kept {', '.join(result.kept_objects)}"
    )
    if result.problems:
        for problem in result.problems:
            console.print(f"[red]MISMATCH[/red] {problem}")
        raise typer.Exit(1)
    console.print("[green]DR drill passed[/green]: every table restored identically.")


if __name__ == "__main__":
    typer.run(main)
