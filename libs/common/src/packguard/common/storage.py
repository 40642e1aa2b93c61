"""S3-compatible object storage: one client, one bucket, reports and uploaded artifacts.

Report objects go through ``signed_objects`` (a lean signed PUT/GET); bucket creation
and uploads through the aiobotocore client.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar
from uuid import UUID

from aiobotocore.credentials import AioCredentials
from aiobotocore.session import AioSession, get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from packguard.common.errors import DependencyUnavailable, NotFound
from packguard.common.purl import PackageRef
from packguard.common.settings import StorageSettings
from packguard.common.signed_objects import (
    CONNECT_TIMEOUT_SECONDS,
    MAX_ATTEMPTS,
    READ_TIMEOUT_SECONDS,
    FrozenCredentialSource,
    SignedObjects,
    http_session,
    resolve_endpoint,
)


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

    def __init__(self, client: Any, bucket: str, objects: SignedObjects) -> None:
        self._client = client
        self._bucket = bucket
        self._objects = objects

    @classmethod
    def sharing(cls: type[S], other: ObjectStore) -> S:
        """A store of this kind on ``other``'s clients and bucket (one connection pool)."""
        return cls(other._client, other._bucket, other._objects)

    async def ensure_bucket(self) -> None:
        with translated_storage_errors():
            try:
                await self._client.head_bucket(Bucket=self._bucket)
            except ClientError:
                await self._client.create_bucket(Bucket=self._bucket)


class ReportStore(ObjectStore):
    """Reads and writes report documents."""

    async def put(self, key: str, body: bytes) -> None:
        with translated_storage_errors():  # a failed credential refresh
            await self._objects.put(key, body, "application/json")

    async def get(self, key: str) -> bytes:
        with translated_storage_errors():
            return await self._objects.get(key)


@contextlib.asynccontextmanager
async def open_report_store(settings: StorageSettings) -> AsyncIterator[ReportStore]:
    async with open_store(settings, ReportStore) as store:
        yield store


def client_config() -> Config:
    """The aiobotocore client's options (bucket creation, uploads)."""
    return Config(
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        s3={"addressing_style": "path"},
    )


async def _credentials(
    session: AioSession, settings: StorageSettings
) -> FrozenCredentialSource | None:
    """The credentials the client signs with: the settings' keys, else botocore's chain."""
    key_id, secret = settings.aws_access_key_id, settings.aws_secret_access_key
    if key_id is not None and secret is not None:
        explicit: FrozenCredentialSource = AioCredentials(
            key_id.get_secret_value(), secret.get_secret_value()
        )
        return explicit
    chain: FrozenCredentialSource | None = await session.get_credentials()
    return chain


@contextlib.asynccontextmanager
async def open_store(settings: StorageSettings, kind: type[S]) -> AsyncIterator[S]:
    session = get_session()
    key_id = settings.aws_access_key_id
    secret = settings.aws_secret_access_key
    credentials = await _credentials(session, settings)
    async with (
        session.create_client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.aws_default_region,
            aws_access_key_id=key_id.get_secret_value() if key_id else None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=client_config(),
        ) as client,
        http_session(session) as http,
    ):
        endpoint = await resolve_endpoint(client, settings.s3_bucket) if credentials else None
        objects = SignedObjects(http, endpoint, credentials)
        yield kind(client, settings.s3_bucket, objects)
