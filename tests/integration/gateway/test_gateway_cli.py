"""The ``packguard`` command against a real gateway and PostgreSQL.

The command runs ``asyncio.run`` itself, so it is invoked in a worker thread while the
test's loop serves the gateway.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
import structlog
from aiohttp.test_utils import TestClient
from typer.testing import CliRunner, Result

from packguard.cli.main import app
from packguard.common.purl import parse_purl
from packguard.common.report import AnalysisReport, PackageInfo, Verdict, VerdictLabel
from packguard.common.storage import ReportStore
from packguard.gateway.apikeys import authenticate

pytestmark = pytest.mark.integration

SetTask = Callable[..., Awaitable[None]]


async def _packguard(args: list[str], env: dict[str, str]) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, args, env=env)


def _task_id(result: Result) -> str:
    """The task id ``submit`` prints first (with --wait, the outcome follows)."""
    return str(UUID(result.stdout.splitlines()[0].strip()))


@pytest.fixture
def cli_env(
    gateway: TestClient[Any, Any], api_key: str, database_url: str
) -> Iterator[dict[str, str]]:
    # The runner captures sys.stdout; keep the in-process gateway's log lines out of it.
    saved = structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.__stderr__))
    yield {
        "PACKGUARD_URL": str(gateway.make_url("")),
        "PACKGUARD_API_KEY": api_key,
        "DATABASE_URL": database_url,
    }
    structlog.configure(**saved)


async def test_cli_apikey_create_prints_only_a_working_key(
    cli_env: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    result = await _packguard(["apikey", "create", "--name", "ci", "--rate-limit", "5"], cli_env)

    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert "\n" not in key and key.startswith("pgk_")
    found = await authenticate(db_pool, key)
    assert found is not None and found.name == "ci" and found.rate_limit_per_minute == 5
    assert not found.is_admin


async def test_cli_apikey_list_and_revoke(cli_env: dict[str, str], db_pool: asyncpg.Pool) -> None:
    created = await _packguard(["apikey", "create", "--name", "temp", "--admin"], cli_env)
    key = created.stdout.strip()
    key_id = key.split("_")[1]

    listed = await _packguard(["apikey", "list"], cli_env)
    revoked = await _packguard(["apikey", "revoke", str(UUID(key_id))], cli_env)
    unknown = await _packguard(
        ["apikey", "revoke", "00000000-0000-0000-0000-000000000000"], cli_env
    )

    assert listed.exit_code == 0 and "temp" in listed.stdout and key not in listed.stdout
    assert revoked.exit_code == 0
    assert await authenticate(db_pool, key) is None
    assert unknown.exit_code == 3


async def test_cli_apikey_create_with_unreachable_database_exits_3(
    cli_env: dict[str, str],
) -> None:
    env = cli_env | {"DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}

    result = await _packguard(["apikey", "create", "--name", "x"], env)

    assert result.exit_code == 3 and result.stdout == ""


async def test_cli_submit_prints_task_id_and_status_shows_it(cli_env: dict[str, str]) -> None:
    submitted = await _packguard(["submit", "pkg:pypi/six@1.16.0", "--priority", "3"], cli_env)

    assert submitted.exit_code == 0, submitted.output
    status = await _packguard(["status", _task_id(submitted)], cli_env)
    assert status.exit_code == 0 and "pending" in status.stdout


async def test_cli_submit_invalid_purl_exits_3(cli_env: dict[str, str]) -> None:
    result = await _packguard(["submit", "pkg:cargo/serde@1.0.0"], cli_env)

    assert result.exit_code == 3
    assert "unsupported_ecosystem" in result.stderr


async def test_cli_submit_of_a_file_uploads_it(
    cli_env: dict[str, str], db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    archive = tmp_path / "bundle.tgz"
    archive.write_bytes(b"pretend tarball")

    result = await _packguard(["submit", str(archive), "--priority", "2"], cli_env)

    assert result.exit_code == 0, result.output
    row = await db_pool.fetchrow(
        "SELECT purl, priority FROM tasks WHERE id = $1", UUID(_task_id(result))
    )
    package = parse_purl(row["purl"], allow_upload=True)
    assert package.ecosystem.value == "npm" and row["priority"] == 2
    assert package.upload is not None and package.upload.filename == "bundle.tgz"


async def test_cli_submit_of_neither_purl_nor_file_exits_3(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = await _packguard(["submit", str(tmp_path / "missing.tgz")], cli_env)

    assert result.exit_code == 3 and "neither a purl nor a file" in result.stderr


async def test_cli_bad_key_exits_3(cli_env: dict[str, str]) -> None:
    result = await _packguard(
        ["status", "00000000-0000-0000-0000-000000000000"], cli_env | {"PACKGUARD_API_KEY": "nope"}
    )

    assert result.exit_code == 3 and "unauthorized" in result.stderr


async def _complete_when_submitted(
    db_pool: asyncpg.Pool, set_task: SetTask, report_store: ReportStore, label: VerdictLabel
) -> None:
    while (task_id := await db_pool.fetchval("SELECT id FROM tasks")) is None:
        await asyncio.sleep(0.02)
    report = AnalysisReport(
        analyzer_version="0.1.0",
        package=PackageInfo(ecosystem="pypi", name="six", version="1.16.0"),
        artifacts=[],
        verdict=Verdict(label=label, score=8.0, summary="test verdict"),
    )
    await report_store.put(
        f"reports/pypi/six/1.16.0/{task_id}.json", report.model_dump_json().encode()
    )
    await set_task(task_id, status="completed", verdict_label=label.value, verdict_score=8.0)


@pytest.mark.parametrize(
    ("label", "exit_code"),
    [(VerdictLabel.BENIGN, 0), (VerdictLabel.SUSPICIOUS, 1), (VerdictLabel.MALICIOUS, 2)],
)
async def test_cli_submit_wait_exits_by_verdict(
    cli_env: dict[str, str],
    db_pool: asyncpg.Pool,
    set_task: SetTask,
    report_store: ReportStore,
    label: VerdictLabel,
    exit_code: int,
) -> None:
    completer = asyncio.create_task(
        _complete_when_submitted(db_pool, set_task, report_store, label)
    )
    result = await _packguard(
        ["submit", "pkg:pypi/six@1.16.0", "--wait", "--poll-interval", "0.05", "--timeout", "30"],
        cli_env,
    )
    await completer

    assert result.exit_code == exit_code, result.output
    assert label.value in result.stdout
    report = await _packguard(["report", _task_id(result), "--format", "json"], cli_env)
    assert report.exit_code == exit_code
    assert json.loads(report.stdout)["verdict"]["label"] == label.value
    sarif = await _packguard(["report", _task_id(result), "--format", "sarif"], cli_env)
    assert sarif.exit_code == exit_code
    assert json.loads(sarif.stdout)["runs"][0]["properties"]["verdict"]["label"] == label.value


async def test_cli_status_of_failed_task_exits_3(
    cli_env: dict[str, str], set_task: SetTask
) -> None:
    submitted = await _packguard(["submit", "pkg:pypi/six@1.16.0"], cli_env)
    task_id = _task_id(submitted)
    await set_task(task_id, status="failed", error_category="not_found", error_message="gone")

    status = await _packguard(["status", task_id], cli_env)
    report = await _packguard(["report", task_id], cli_env)

    assert status.exit_code == 3 and "not_found" in status.stdout
    assert report.exit_code == 3 and "report_not_ready" in report.stderr
