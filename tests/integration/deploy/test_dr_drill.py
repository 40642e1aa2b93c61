"""The DR drill and the backup scripts' S3 side, against real PostgreSQL and S3."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path

import pytest

from packguard.common.settings import StorageSettings
from packguard.devstack.dr_database import CHECKSUM_TABLE, TABLES
from packguard.devstack.dr_drill import run_dr_drill
from packguard.devstack.s3_server import s3_client

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

MIB = 1024 * 1024


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_dr_drill_restores_every_table_identically_and_prunes_expired_dumps(
    tmp_path: Path,
) -> None:
    result = await run_dr_drill(tmp_path, tasks=400)
    assert result.problems == []
    assert set(result.source) == set(TABLES)
    assert result.source[CHECKSUM_TABLE].rows > 0
    assert result.restored == result.source
    assert result.tables_before_restore == 0
    assert result.restored_key == result.backup_key
    assert result.expired_dump not in result.remaining
    assert set(result.kept_objects) <= set(result.remaining)
    assert result.remaining[result.backup_key] > 0


async def _objects(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).resolve().parents[3] / "deploy/backup/backup_objects.py"),
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


async def test_backup_objects_multipart_put_then_get_round_trips_with_digest(
    storage_settings: StorageSettings, service_env: dict[str, str], tmp_path: Path
) -> None:
    digest = hashlib.sha256()
    source = tmp_path / "dump"
    source.write_bytes(os.urandom(11 * MIB))  # three 5 MiB parts
    digest.update(source.read_bytes())
    env = {**service_env, "BACKUP_PART_BYTES": str(5 * MIB)}
    key = f"test-backups/{tmp_path.name}/packguard-20260101T000000Z.dump"
    await _objects(env, "put", str(source), key)
    async with s3_client(storage_settings.s3_endpoint_url or "") as client:
        head = await client.head_object(Bucket=storage_settings.s3_bucket, Key=key)
    assert head["Metadata"]["sha256"] == digest.hexdigest()  # what `get` verifies against
    assert (await _objects(env, "latest", f"test-backups/{tmp_path.name}")).strip() == key
    copy = tmp_path / "copy"
    await _objects(env, "get", key, str(copy))
    assert (
        hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    )
    deleted = await _objects(
        env, "prune", f"test-backups/{tmp_path.name}", "--retention-days", "30"
    )
    assert key in deleted
