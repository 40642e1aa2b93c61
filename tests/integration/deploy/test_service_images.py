"""The service images and the backup image build from this checkout and run as non-root."""

import asyncio
import json
import re
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiodocker
import asyncpg
import pytest

from packguard.common.settings import StorageSettings
from packguard.devstack import SERVICE_NAMES, ensure_service_images
from packguard.devstack.s3_server import s3_client
from packguard.devstack.service_images import BACKUP, ENTRYPOINT, SERVICE_USER

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio]

# Runs inside each image as its own user: the service imports with its whole closure, the
# S3 model survived the botocore pruning, the build tools did not reach the final stage.
SMOKE = """
import importlib, importlib.util, json, os, sys
import botocore.session
service = os.environ["PACKGUARD_SERVICE"]
importlib.import_module(f"packguard.{service}.__main__")
botocore.session.get_session().get_service_model("s3")
print(json.dumps({
    "service": service,
    "uid": os.getuid(),
    "gid": os.getgid(),
    "pip": importlib.util.find_spec("pip") is not None,
    "build_dir": os.path.exists("/build"),
    "entrypoint": open(sys.argv[1]).read(),
}))
"""


async def _run_smoke(docker: aiodocker.Docker, image: str) -> tuple[int, str]:
    container = await docker.containers.create(
        {
            "Image": image,
            "Entrypoint": ["/opt/packguard/bin/python", "-c", SMOKE, ENTRYPOINT],
            "HostConfig": {
                "NetworkMode": "none",
                "ReadonlyRootfs": True,
                "CapDrop": ["ALL"],
                "SecurityOpt": ["no-new-privileges"],
            },
        }
    )
    try:
        async with asyncio.timeout(120):
            await container.start()
            result = await container.wait()
        logs = "".join(await container.log(stdout=True, stderr=True))
    finally:
        await container.delete(force=True)
    return result["StatusCode"], logs


@pytest.mark.timeout(1800)
async def test_service_images_build_and_import_their_service_as_non_root(
    docker_host: str, repo_root: Path, tmp_path: Path
) -> None:
    images = await ensure_service_images(
        docker_host,
        repo_root=repo_root,
        log_path=tmp_path / "build.log",
        state_dir=tmp_path,
        services=SERVICE_NAMES,
    )
    assert list(images) == list(SERVICE_NAMES)
    for name, image in images.items():
        assert re.fullmatch(rf"localhost/packguard-{name}:[0-9a-f]{{12}}", image), image
    async with aiodocker.Docker(url=docker_host) as docker:
        outcomes = await asyncio.gather(*(_run_smoke(docker, image) for image in images.values()))
        latest = {
            name: (await docker.images.inspect(f"localhost/packguard-{name}:latest"))["Id"]
            for name in images
        }
        built = {name: await docker.images.inspect(image) for name, image in images.items()}
    assert latest == {name: image["Id"] for name, image in built.items()}
    for name, (status, logs) in zip(images, outcomes, strict=True):
        assert status == 0, logs
        facts = json.loads(logs.strip().splitlines()[-1])
        assert facts["service"] == name
        assert facts["uid"] == 10001 and facts["gid"] == 10001
        assert not facts["build_dir"], "the build stage leaked into the image"
        # Only the runner keeps pip: it asks pip for the index when PYPI_INDEX_URL is unset.
        assert facts["pip"] == (name == "runner")
        assert f"exec /opt/packguard/bin/python -m packguard.{name} " in facts["entrypoint"]
        config: dict[str, Any] = built[name]["Config"]
        assert config["User"] == SERVICE_USER
        assert config["Entrypoint"] == [ENTRYPOINT]
        assert config["Healthcheck"]["Test"] == ["CMD", "/opt/packguard/bin/packguard-healthcheck"]


@pytest.mark.timeout(1800)
async def test_backup_image_dumps_the_stack_database_to_s3_as_non_root(
    docker_host: str,
    repo_root: Path,
    tmp_path: Path,
    db_pool: asyncpg.Pool,
    service_env: dict[str, str],
    storage_settings: StorageSettings,
) -> None:
    images = await ensure_service_images(
        docker_host,
        repo_root=repo_root,
        log_path=tmp_path / "build.log",
        state_dir=tmp_path,
        services=[BACKUP],
    )
    await db_pool.execute(
        "INSERT INTO api_keys (id, name, key_hash) VALUES ($1, 'backup-image', 'x')", uuid4()
    )
    prefix = f"test-backup-image/{tmp_path.name}"
    env = {**service_env, "BACKUP_PREFIX": prefix, "BACKUP_RETENTION_DAYS": "30"}
    async with aiodocker.Docker(url=docker_host) as docker:
        container = await docker.containers.create(
            {
                "Image": images[BACKUP],
                "Env": [f"{key}={value}" for key, value in env.items()],
                "HostConfig": {
                    # The test stack listens on the host's loopback only.
                    "NetworkMode": "host",
                    "ReadonlyRootfs": True,
                    "CapDrop": ["ALL"],
                    "SecurityOpt": ["no-new-privileges"],
                    "Tmpfs": {"/tmp": "rw,size=64m"},
                },
            }
        )
        try:
            async with asyncio.timeout(120):
                await container.start()
                result = await container.wait()
            stdout = "".join(await container.log(stdout=True))
            logs = "".join(await container.log(stdout=True, stderr=True))
            user = (await container.show())["Config"]["User"]
        finally:
            await container.delete(force=True)
    assert result["StatusCode"] == 0, logs
    assert user == SERVICE_USER
    key = stdout.strip().splitlines()[-1]
    assert re.fullmatch(rf"{prefix}/packguard-\d{{8}}T\d{{6}}Z\.dump", key), logs
    async with s3_client(storage_settings.s3_endpoint_url or "") as client:
        head = await client.head_object(Bucket=storage_settings.s3_bucket, Key=key)
    assert head["ContentLength"] > 0
    assert len(head["Metadata"]["sha256"]) == 64
