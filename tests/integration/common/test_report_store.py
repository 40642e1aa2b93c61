"""ReportStore against the real S3 server: signed put and get, errors, botocore interop."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from uuid import uuid4

import pytest
from pydantic import SecretStr

from packguard.common.errors import DependencyUnavailable, NotFound
from packguard.common.settings import StorageSettings
from packguard.common.storage import ReportStore, open_report_store

pytestmark = pytest.mark.integration

# Scoped npm names, build metadata, spaces and non-ASCII must all sign and round-trip.
KEYS = (
    "reports/npm/@babel/core/7.22.0/{id}.json",
    "reports/pypi/a b/1.0+local.1/{id}.json",
    "reports/npm/ünïcode/1.0.0~rc/{id}.json",
)


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port bound but never listening: connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.parametrize("template", KEYS)
async def test_put_then_get_returns_the_same_bytes(
    report_store: ReportStore, template: str
) -> None:
    key = template.format(id=uuid4())
    body = b'{"verdict": "benign", "findings": []}'

    await report_store.put(key, body)

    assert await report_store.get(key) == body


async def test_put_is_readable_by_botocore_with_its_content_type(report_store: ReportStore) -> None:
    key = f"reports/npm/@scope/name/1.0.0/{uuid4()}.json"

    await report_store.put(key, b"{}")

    response = await report_store._client.get_object(Bucket=report_store._bucket, Key=key)
    async with response["Body"] as stream:
        assert await stream.read() == b"{}"
    assert response["ContentType"] == "application/json"


async def test_get_reads_what_botocore_wrote(report_store: ReportStore) -> None:
    key = f"reports/pypi/a b/2.0/{uuid4()}.json"
    await report_store._client.put_object(Bucket=report_store._bucket, Key=key, Body=b"[1]")

    assert await report_store.get(key) == b"[1]"


async def test_put_overwrites_the_same_key(report_store: ReportStore) -> None:
    key = f"reports/pypi/p/1/{uuid4()}.json"

    await report_store.put(key, b"first")
    await report_store.put(key, b"second")

    assert await report_store.get(key) == b"second"


async def test_get_of_a_missing_key_is_not_found(report_store: ReportStore) -> None:
    with pytest.raises(NotFound):
        await report_store.get(f"reports/pypi/none/1/{uuid4()}.json")


async def test_wrong_secret_is_unavailable_not_not_found(storage_settings: StorageSettings) -> None:
    secret = SecretStr("not-the-secret")
    wrong = storage_settings.model_copy(update={"aws_secret_access_key": secret})
    async with open_report_store(wrong) as store:
        with pytest.raises(DependencyUnavailable, match="SignatureDoesNotMatch"):
            await store.get(f"reports/pypi/none/1/{uuid4()}.json")


async def test_missing_bucket_is_unavailable(storage_settings: StorageSettings) -> None:
    elsewhere = storage_settings.model_copy(update={"s3_bucket": f"absent-{uuid4().hex[:12]}"})
    async with open_report_store(elsewhere) as store:
        with pytest.raises(DependencyUnavailable, match="NoSuchBucket"):
            await store.get("reports/pypi/none/1/x.json")


async def test_unreachable_server_is_unavailable_after_retries(refused_port: int) -> None:
    nowhere = StorageSettings(
        s3_endpoint_url=f"http://127.0.0.1:{refused_port}",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    async with open_report_store(nowhere) as store:
        with pytest.raises(DependencyUnavailable, match="unavailable"):
            await store.put("reports/pypi/p/1/x.json", b"{}")
