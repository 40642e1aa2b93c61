"""sdists built with each PEP 517 backend the image carries install offline in the sandbox
(no network: the backend must already be in the image) and their module then imports."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiodocker
import pytest
import pytest_asyncio

from packguard.common.report import VerdictLabel
from tests.integration.analyzer.backend_sdists import BACKENDS, backend_sdist
from tests.integration.analyzer.sandbox_run import analyse, phase_statuses

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest_asyncio.fixture(loop_scope="session")
async def docker(docker_host: str) -> AsyncIterator[aiodocker.Docker]:
    async with aiodocker.Docker(url=docker_host) as client:
        yield client


@pytest.mark.parametrize("backend", BACKENDS)
async def test_sdist_of_each_backend_installs_offline_and_imports(
    docker: aiodocker.Docker, analyzer_image: str, tmp_path: Path, backend: str
) -> None:
    module, artifact = backend_sdist(backend)
    report, elapsed = await analyse(docker, analyzer_image, tmp_path, "pypi", artifact, module)
    print(f"{backend}: {elapsed:.1f}s, phases {[(p.name, p.detail) for p in report.phases]}")
    install = next(phase for phase in report.phases if phase.name == "install")
    assert install.status == "ok", install.detail
    assert phase_statuses(report)["import"] == "ok"
    assert report.dynamic is not None
    (pip_step, import_step) = report.dynamic.steps
    assert (pip_step.label, pip_step.exit_code) == ("pip install", 0), pip_step.stderr_tail
    # Backends spell the distribution name either way.
    installed = rf"Successfully installed {module.replace('_', '[-_]')}-1\.0\n"
    assert re.search(installed, pip_step.stdout_tail), pip_step.stdout_tail
    assert f"packguard: imported {module}" in import_step.stderr_tail
    assert report.dynamic.stand_ins == []
    assert report.verdict.label in {VerdictLabel.BENIGN, VerdictLabel.LOW}, report.findings
