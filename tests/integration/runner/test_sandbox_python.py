"""The wheel choice assumes the analyzer image's Python: check the image agrees."""

from __future__ import annotations

import aiodocker
import pytest

from packguard.runner.registries.wheels import SANDBOX_PYTHON

pytestmark = pytest.mark.integration


async def test_analyzer_image_python_is_the_one_wheels_are_chosen_for(
    docker_host: str, analyzer_image: str
) -> None:
    async with aiodocker.Docker(url=docker_host) as docker:
        container = await docker.containers.create(
            {
                "Image": analyzer_image,
                "Entrypoint": ["/usr/bin/python3", "-c"],
                "Cmd": ["import sys; print('%d.%d' % sys.version_info[:2])"],
                "HostConfig": {"NetworkMode": "none"},
            }
        )
        try:
            await container.start()
            result = await container.wait()
            output = "".join(await container.log(stdout=True)).strip()
        finally:
            await container.delete(force=True)

    assert result["StatusCode"] == 0, output
    assert output == ".".join(str(part) for part in SANDBOX_PYTHON)
