"""The analyzer image, built from this checkout into the real engine, runs sandboxed."""

from pathlib import Path

import aiodocker
import pytest

from packguard.devstack import (
    analyzer_tag,
    ensure_analyzer_image,
    ensure_base_image,
    ensure_docker_engine,
    find_repo_root,
)
from packguard.devstack.analyzer_image import REPOSITORY

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio]


@pytest.mark.timeout(1800)
async def test_ensure_analyzer_image_builds_then_reuses_and_help_runs_without_network(
    tmp_path: Path,
) -> None:
    docker_host = await ensure_docker_engine()
    await ensure_base_image(docker_host, log_path=tmp_path / "base-image.log")
    repo_root = find_repo_root()
    tag = analyzer_tag(repo_root)
    log_path = tmp_path / "analyzer-image.log"

    image = await ensure_analyzer_image(
        docker_host, repo_root=repo_root, log_path=log_path, state_dir=tmp_path, rebuild=True
    )
    assert image == f"{REPOSITORY}:{tag}"  # the content tag, by default
    assert "Successfully tagged" in log_path.read_text()
    assert not list((tmp_path / "build").glob("analyzer-*")), "the context was left behind"

    log_path.unlink()
    # The same tag again, explicitly: an edit made meanwhile must not turn this into a build.
    assert (
        await ensure_analyzer_image(
            docker_host, repo_root=repo_root, tag=tag, log_path=log_path, state_dir=tmp_path
        )
        == image
    )
    assert not log_path.exists(), "an unchanged checkout must reuse the image, not rebuild"

    async with aiodocker.Docker(url=docker_host) as docker:
        built = await docker.images.inspect(image)
        latest = await docker.images.inspect(f"{REPOSITORY}:latest")
        assert latest["Id"] == built["Id"]
        container = await docker.containers.create(
            {
                "Image": image,
                "Cmd": ["--help"],
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
            logs = "".join(await container.log(stdout=True, stderr=True))
            config = await container.show()
        finally:
            await container.delete(force=True)
    assert result["StatusCode"] == 0, logs
    assert "usage: packguard-analyzer" in logs
    assert config["Config"]["User"] == "65534:65534"
