"""S3-compatible object storage: one client, one bucket, reports and uploaded artifacts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar
from uuid import UUID

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from packguard.common.errors import DependencyUnavailable, NotFound
from packguard.common.purl import PackageRef
from packguard.common.settings import StorageSettings


def report_key(package: PackageRef, task_id: UUID) -> str:
    """The deterministic object key of a task's report."""
    return f"reports/{package.ecosystem.value}/{package.name}/{package.version}/{task_id}.json"


@contextlib.contextmanager
def translated_storage_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            raise NotFound("object not found") from exc
        raise DependencyUnavailable(f"object storage error: {code}") from exc
    except (BotoCoreError, OSError) as exc:
        raise DependencyUnavailable(f"object storage unavailable: {exc}") from exc


S = TypeVar("S", bound="ObjectStore")


class ObjectStore:
    """One bucket through one S3 client; subclasses add what their objects need."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    @classmethod
    def sharing(cls: type[S], other: ObjectStore) -> S:
        """A store of this kind on ``other``'s client and bucket (one connection pool)."""
        return cls(other._client, other._bucket)

    async def ensure_bucket(self) -> None:
        with translated_storage_errors():
            try:
                await self._client.head_bucket(Bucket=self._bucket)
            except ClientError:
                await self._client.create_bucket(Bucket=self._bucket)


class ReportStore(ObjectStore):
    """Reads and writes report documents."""

    async def put(self, key: str, body: bytes) -> None:
        with translated_storage_errors():
            await self._client.put_object(
                Bucket=self._bucket, Key=key, Body=body, ContentType="application/json"
            )

    async def get(self, key: str) -> bytes:
        with translated_storage_errors():
            response = await self._client.get_object(Bucket=self._bucket, Key=key)
            async with response["Body"] as stream:
                data: bytes = await stream.read()
                return data


@contextlib.asynccontextmanager
async def open_report_store(settings: StorageSettings) -> AsyncIterator[ReportStore]:
    async with open_store(settings, ReportStore) as store:
        yield store


@contextlib.asynccontextmanager
async def open_store(settings: StorageSettings, kind: type[S]) -> AsyncIterator[S]:
    session = get_session()
    key_id = settings.aws_access_key_id
    secret = settings.aws_secret_access_key
    config = Config(
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        s3={"addressing_style": "path"},
    )
    async with session.create_client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_default_region,
        aws_access_key_id=key_id.get_secret_value() if key_id else None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=config,
    ) as client:
        yield kind(client, settings.s3_bucket)
