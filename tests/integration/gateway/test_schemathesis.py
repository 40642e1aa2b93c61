"""Schemathesis against the gateway's own OpenAPI document, with a valid key.

Every phase runs (examples, coverage, fuzzing, stateful) with every check but the ones
``schemathesis.toml`` beside this file turns off, and says why: no 5xx, and every status,
content type, header and body matches the document. The gateway is a real one on
loopback over the session's Redis, PostgreSQL and S3; the example count is bounded, so
the run stops by itself. ``SCHEMATHESIS_SEED`` replays a run (its seed is printed).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestClient

from packguard.common.report import (
    AnalysisReport,
    ArtifactInfo,
    DnsRecord,
    DynamicTrace,
    Evidence,
    FileRecord,
    Finding,
    InventoryEntry,
    PackageInfo,
    PhaseResult,
    Severity,
    Verdict,
    VerdictLabel,
)
from packguard.common.storage import ReportStore

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeGateway, MakeKey

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONFIG = Path(__file__).with_name("schemathesis.toml")
DEFAULT_SEED = "20261127"
RUN_TIMEOUT_SECONDS = 300
SetTask = Callable[..., Awaitable[None]]


def _report() -> AnalysisReport:
    """A report with every optional part filled, so its whole schema is exercised."""
    return AnalysisReport(
        analyzer_version="0.1.0",
        package=PackageInfo(ecosystem="pypi", name="six", version="1.16.0"),
        artifacts=[ArtifactInfo(filename="six-1.16.0.tar.gz", sha256="0" * 64, size_bytes=34)],
        inventory=[InventoryEntry(path="six-1.16.0/setup.py", size_bytes=12)],
        findings=[
            Finding(
                rule_id="network-exfil-url",
                title="posts to a URL",
                severity=Severity.HIGH,
                confidence=0.9,
                category="network",
                evidence=[Evidence(file="setup.py", line=3, snippet="http://exfil.invalid/")],
            )
        ],
        verdict=Verdict(label=VerdictLabel.SUSPICIOUS, score=6.5, summary="posts to a URL"),
        phases=[PhaseResult(name="static", status="ok", duration_ms=12)],
        dynamic=DynamicTrace(
            files=[
                FileRecord(
                    phase="install", syscall="openat", path="/fake/.ssh/id_rsa", access="read"
                )
            ],
            dns=[DnsRecord(phase="import", name="exfil.invalid")],
        ),
    )


async def _completed_task(
    gateway: TestClient[Any, Any], key: str, set_task: SetTask, report_store: ReportStore
) -> str:
    """six 1.16.0 analysed and stored, so get_report answers 200 and a resubmit is cached."""
    response = await gateway.post(
        "/api/v1/analyze/",
        json={"purl": "pkg:pypi/six@1.16.0"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status == 202, await response.text()
    task_id = str((await response.json())["data"]["task_id"])
    await report_store.put(
        f"reports/pypi/six/1.16.0/{task_id}.json", _report().model_dump_json().encode()
    )
    await set_task(
        task_id,
        status="completed",
        verdict_label="suspicious",
        verdict_score=6.5,
        analyzer_version="0.1.0",
    )
    return task_id


async def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(
    make_gateway: MakeGateway,
    make_key: MakeKey,
    set_task: SetTask,
    report_store: ReportStore,
    tmp_path: Path,
) -> None:
    gateway = await make_gateway()
    key = await make_key("schemathesis", rate_limit=1_000_000)
    completed = await _completed_task(gateway, key, set_task, report_store)
    document_url = str(gateway.make_url("/api/v1/openapi.json"))
    env = {
        **os.environ,
        "PACKGUARD_API_KEY": key,
        "PACKGUARD_COMPLETED_TASK_ID": completed,
        "NO_COLOR": "1",
    }
    seed = os.environ.get("SCHEMATHESIS_SEED", DEFAULT_SEED)
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG)]
    command += ["run", document_url, "--seed", seed, "--no-color"]

    # Schemathesis is a blocking client: a child process, while this loop serves it.
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT_SECONDS):
            output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    report = output.decode(errors="replace")
    print(report.rpartition("SUMMARY")[2])  # with -rP: operations, cases, seed, time

    assert process.returncode == 0, report
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected and tested, report
    # Every operation of the document, the upload and any later one included.
    assert selected[1] == selected[2] == tested[1], report
