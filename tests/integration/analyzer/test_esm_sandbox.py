"""An ES-module-only npm package (``"type": "module"``, an exports map, no main) in the
real analyzer image: the require phase import()s it, its missing dependency gets a
stand-in at link time, and its bait read and sinkholed request land in the report.

The sample is the corpus's inert ``ESM_IMPORT_STEALER``: it reads the planted fake npm
token and posts it to a reserved name (*.invalid) that the sandbox's own resolver and
listeners answer on loopback. The container has no network; nothing leaves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiodocker
import pytest
import pytest_asyncio

from packguard.common.report import VerdictLabel
from tests.corpus.malicious import ESM_IMPORT_STEALER
from tests.fixtures.packages import BuiltArtifact
from tests.integration.analyzer.sandbox_run import analyse, by_rule, phase_statuses

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest_asyncio.fixture(loop_scope="session")
async def docker(docker_host: str) -> AsyncIterator[aiodocker.Docker]:
    async with aiodocker.Docker(url=docker_host) as client:
        yield client


async def test_esm_package_stealing_npm_token_on_import_is_seen_in_sandbox(
    docker: aiodocker.Docker, analyzer_image: str, tmp_path: Path
) -> None:
    sample = ESM_IMPORT_STEALER
    artifact = BuiltArtifact(sample.filename, sample.build())
    report, elapsed = await analyse(
        docker, analyzer_image, tmp_path, "npm", artifact, sample.name, sample.version
    )
    print(f"npm esm stealer: {elapsed:.1f}s, verdict {report.verdict}")
    assert report.verdict.label == VerdictLabel.MALICIOUS
    # Nothing runs at install; the require phase is where it all happens.
    assert phase_statuses(report) | {"install": "skipped", "import": "ok"} == phase_statuses(report)
    findings = by_rule(report)
    assert {"dynamic-bait-read", "dynamic-credential-exfiltration"} <= set(findings)
    (read,) = findings["dynamic-bait-read"].evidence
    assert read.phase == "import"
    assert read.snippet == "read /sandbox/scratch/home/.npmrc"
    trace = report.dynamic
    assert trace is not None
    assert ("import", "esm-usage.invalid") in {(d.phase, d.name) for d in trace.dns}
    (request,) = trace.http
    assert (request.phase, request.method, request.host, request.path, request.port) == (
        "import",
        "POST",
        "esm-usage.invalid",
        "/v1/usage",
        80,
    )
    assert trace.stand_ins == ["date-fns"]
    (step,) = trace.steps
    assert (step.label, step.exit_code) == ("require", 0)
    assert "packguard: imported /sandbox/scratch/" in step.stderr_tail
    assert step.stderr_tail.rstrip().endswith("/package/lib/index.js"), step.stderr_tail
