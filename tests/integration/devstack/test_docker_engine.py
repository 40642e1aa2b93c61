"""The container engine and the sandbox base image (first run builds it: ~1-2 min)."""

from pathlib import Path

import aiodocker
import pytest

from packguard.devstack import BASE_IMAGE, ensure_base_image, ensure_docker_engine
from packguard.devstack.base_image import image_exists
from packguard.devstack.engine_api import ping_engine

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest.mark.timeout(1800)
async def test_docker_engine_answers_and_base_image_runs_sandboxed(tmp_path: Path) -> None:
    docker_host = await ensure_docker_engine()
    assert await ping_engine(docker_host)

    assert await ensure_base_image(docker_host, log_path=tmp_path / "base-image.log") == BASE_IMAGE
    assert await image_exists(docker_host, BASE_IMAGE)

    async with aiodocker.Docker(url=docker_host) as docker:
        container = await docker.containers.create(
            {
                "Image": BASE_IMAGE,
                "Cmd": ["python3", "-c", "import ssl, venv; print('sandbox-ok')"],
                "User": "65534:65534",
                "HostConfig": {
                    "NetworkMode": "none",
                    "ReadonlyRootfs": True,
                    "CapDrop": ["ALL"],
                    "SecurityOpt": ["no-new-privileges"],
                },
            }
        )
        try:
            await container.start()
            result = await container.wait()
            logs = await container.log(stdout=True, stderr=True)
        finally:
            await container.delete(force=True)
    assert result["StatusCode"] == 0, logs
    assert "sandbox-ok\n" in logs
