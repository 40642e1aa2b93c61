"""The real analyzer image, run the way the runner runs it (container_config + DockerSandbox),
on inert malicious and benign packages: verdicts, bait reads and sinkholed network intent.

The samples are inert: they read planted fake credentials and "send" them to reserved
names (*.invalid) that the sandbox's own resolver and listeners answer on loopback. The
container has no network; nothing leaves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiodocker
import pytest
import pytest_asyncio

from packguard.common.report import VerdictLabel
from tests.fixtures.packages import npm_tarball, pypi_sdist
from tests.fixtures.samples import NPM_POSTINSTALL, STEALER_SETUP
from tests.integration.analyzer.sandbox_run import analyse, by_rule, phase_statuses

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest_asyncio.fixture(loop_scope="session")
async def docker(docker_host: str) -> AsyncIterator[aiodocker.Docker]:
    async with aiodocker.Docker(url=docker_host) as client:
        yield client


async def test_sdist_stealing_cloud_keys_is_malicious_with_sinkholed_request(
    docker: aiodocker.Docker, analyzer_image: str, tmp_path: Path
) -> None:
    module = "import requests_oauth_helper  # not installed: a stand-in lets the import go on\n"
    artifact = pypi_sdist("stealer", "1.0", {"setup.py": STEALER_SETUP, "stealer.py": module})
    report, elapsed = await analyse(
        docker, analyzer_image, tmp_path, "pypi", artifact, name="stealer"
    )
    print(f"pypi stealer: {elapsed:.1f}s, verdict {report.verdict}")
    assert report.verdict.label == VerdictLabel.MALICIOUS
    assert phase_statuses(report) | {"install": "ok", "import": "ok"} == phase_statuses(report)
    findings = by_rule(report)
    assert {"dynamic-bait-read", "dynamic-credential-exfiltration", "dynamic-bait-sent"} <= set(
        findings
    )
    (read,) = findings["dynamic-bait-read"].evidence
    assert (read.phase, read.syscall) == ("install", "openat")
    assert read.snippet is not None and read.snippet.endswith("/.aws/credentials")
    trace = report.dynamic
    assert trace is not None
    assert ("install", "exfil.invalid") in {(d.phase, d.name) for d in trace.dns}
    (request,) = trace.http
    assert (request.method, request.host, request.port) == ("GET", "exfil.invalid", 80)
    assert request.request_line.startswith("GET /collect?k=AKIA")
    assert any("bait" in f.flags and f.path.endswith("/.aws/credentials") for f in trace.files)
    assert trace.stand_ins == ["requests_oauth_helper"]
    assert "packguard: imported stealer" in trace.steps[-1].stderr_tail


async def test_npm_postinstall_sending_npm_token_over_tls_is_malicious(
    docker: aiodocker.Docker, analyzer_image: str, tmp_path: Path
) -> None:
    artifact = npm_tarball(
        "telemetry-helper",
        "1.0.0",
        {"install.js": NPM_POSTINSTALL, "index.js": "module.exports = require('left-pad-ng');\n"},
        scripts={"postinstall": "node install.js"},
    )
    report, elapsed = await analyse(
        docker, analyzer_image, tmp_path, "npm", artifact, name="telemetry-helper"
    )
    print(f"npm stealer: {elapsed:.1f}s, verdict {report.verdict}")
    assert report.verdict.label == VerdictLabel.MALICIOUS
    findings = by_rule(report)
    assert {
        "dynamic-bait-read",
        "dynamic-credential-exfiltration",
        "dynamic-tls-connection",
    } <= set(findings)
    assert findings["dynamic-bait-read"].evidence[0].snippet == "read /sandbox/scratch/home/.npmrc"
    trace = report.dynamic
    assert trace is not None
    assert ("install", "npm-telemetry.invalid") in {(d.phase, d.name) for d in trace.dns}
    assert [(t.phase, t.server_name, t.port) for t in trace.tls] == [
        ("install", "npm-telemetry.invalid", 443)
    ]
    assert [(s.phase, s.label, s.exit_code) for s in trace.steps] == [
        ("install", "postinstall", 0),
        ("import", "require", 0),
    ]
    # The detached child was killed soon after its phase: the report is the analyzer's.
    install = next(phase for phase in report.phases if phase.name == "install")
    assert install.detail == "postinstall: exit 0, left processes running (killed)"
    assert "sleep 20" in {process.command for process in trace.processes}
    assert trace.stand_ins == ["left-pad-ng"]
    assert report.package.ecosystem == "npm"


@pytest.mark.parametrize("ecosystem", ["pypi", "npm"])
async def test_benign_package_stays_benign_or_low(
    docker: aiodocker.Docker, analyzer_image: str, tmp_path: Path, ecosystem: str
) -> None:
    name = "plainpkg" if ecosystem == "pypi" else "plain-pkg"
    artifact = (
        pypi_sdist(name, "1.0")
        if ecosystem == "pypi"
        else npm_tarball(name, "1.0.0", scripts={"postinstall": "node -v"})
    )
    report, elapsed = await analyse(docker, analyzer_image, tmp_path, ecosystem, artifact, name)
    print(f"{ecosystem} benign: {elapsed:.1f}s, verdict {report.verdict}")
    assert report.verdict.label in {VerdictLabel.BENIGN, VerdictLabel.LOW}, report.findings
    assert not [f for f in report.findings if f.category == "dynamic"]
    assert phase_statuses(report)["import"] == "ok"
    assert report.dynamic is not None
    assert (report.dynamic.dns, report.dynamic.http, report.dynamic.tls) == ([], [], [])
