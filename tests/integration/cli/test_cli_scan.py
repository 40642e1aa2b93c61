"""``packguard scan`` as a user runs it: a process, the real analyzer image, the local engine.

The malicious sample is inert: it reads the sandbox's planted fake credentials and "sends"
them to a reserved *.invalid name that the sandbox's own resolver answers on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.fixtures.packages import npm_tarball, pypi_sdist
from tests.fixtures.registry import FixtureRegistry
from tests.fixtures.samples import NPM_POSTINSTALL, STEALER_SETUP

pytestmark = pytest.mark.integration

SCAN_TIMEOUT_SECONDS = 300.0


async def scan(
    *args: str,
    docker_host: str,
    analyzer_image: str = "unused:latest",
    extra_env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "DOCKER_HOST": docker_host,
        "ANALYZER_IMAGE": analyzer_image,
        **(extra_env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "packguard.cli",
        "scan",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(SCAN_TIMEOUT_SECONDS):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_scan_malicious_sdist_exits_2(
    docker_host: str, analyzer_image: str, tmp_path: Path
) -> None:
    artifact = pypi_sdist("stealer", "1.0", {"setup.py": STEALER_SETUP})
    path = tmp_path / artifact.filename
    path.write_bytes(artifact.data)

    code, out, err = await scan(str(path), docker_host=docker_host, analyzer_image=analyzer_image)

    assert code == 2, err
    report = json.loads(out)
    assert report["verdict"]["label"] == "malicious"
    assert report["package"] == {"ecosystem": "pypi", "name": "stealer", "version": "1.0"}
    assert report["artifacts"][0]["sha256"] == artifact.sha256


@pytest.mark.slow
async def test_scan_npm_purl_downloads_and_exits_2(
    docker_host: str, analyzer_image: str, fixture_registry: FixtureRegistry
) -> None:
    tarball = npm_tarball(
        "@demo/telemetry-helper",
        "1.0.0",
        {"install.js": NPM_POSTINSTALL},
        scripts={"postinstall": "node install.js"},
    )
    fixture_registry.add_npm("@demo/telemetry-helper", "1.0.0", tarball)

    code, out, err = await scan(
        "pkg:npm/%40demo/telemetry-helper@1.0.0",
        docker_host=docker_host,
        analyzer_image=analyzer_image,
        extra_env={"NPM_REGISTRY_URL": fixture_registry.npm_registry_url},
    )

    assert code == 2, err
    report = json.loads(out)
    assert report["verdict"]["label"] == "malicious"
    assert report["package"]["name"] == "@demo/telemetry-helper"
    assert report["artifacts"][0]["sha256"] == tarball.sha256


@pytest.mark.slow
async def test_scan_benign_sdist_exits_0(
    docker_host: str, analyzer_image: str, tmp_path: Path
) -> None:
    artifact = pypi_sdist("greeter", "1.0")
    path = tmp_path / artifact.filename
    path.write_bytes(artifact.data)

    code, out, err = await scan(str(path), docker_host=docker_host, analyzer_image=analyzer_image)

    assert code == 0, err
    assert json.loads(out)["verdict"]["label"] in ("benign", "low")


@pytest.mark.slow
async def test_scan_static_only_text_summary_exits_0(
    docker_host: str, analyzer_image: str, tmp_path: Path
) -> None:
    artifact = pypi_sdist("greeter", "1.0")
    path = tmp_path / artifact.filename
    path.write_bytes(artifact.data)

    code, out, err = await scan(
        str(path),
        "--static-only",
        "--format",
        "text",
        docker_host=docker_host,
        analyzer_image=analyzer_image,
    )

    assert code == 0, err
    assert "greeter" in out
    assert "benign" in out or "low" in out


async def test_scan_without_engine_exits_3(tmp_path: Path) -> None:
    artifact = pypi_sdist("greeter", "1.0")
    path = tmp_path / artifact.filename
    path.write_bytes(artifact.data)

    code, out, err = await scan(str(path), docker_host=f"unix://{tmp_path}/no-engine.sock")

    assert code == 3
    assert out == ""
    assert "does not answer" in err
