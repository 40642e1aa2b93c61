"""The gateway's upload retention step against real S3: applied, refused, or retried."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from packguard.common.errors import DependencyUnavailable
from packguard.common.settings import StorageSettings
from packguard.common.storage import ReportStore, open_store
from packguard.common.uploads import EXPIRY_RULE_ID, UploadStore
from packguard.gateway.upload_expiry import set_upload_expiry

pytestmark = pytest.mark.integration


async def _rule_ids(report_store: ReportStore) -> list[str]:
    client = report_store._client
    try:
        answer = await client.get_bucket_lifecycle_configuration(Bucket=report_store._bucket)
    except client.exceptions.ClientError:
        return []
    return [rule["ID"] for rule in answer["Rules"]]


@pytest.fixture
async def clean_lifecycle(report_store: ReportStore) -> AsyncIterator[None]:
    """No lifecycle rules before or after (gateways of other tests set theirs)."""
    await report_store._client.delete_bucket_lifecycle(Bucket=report_store._bucket)
    yield
    await report_store._client.delete_bucket_lifecycle(Bucket=report_store._bucket)


async def test_the_rule_is_applied_when_s3_answers(
    report_store: ReportStore, clean_lifecycle: None
) -> None:
    await set_upload_expiry(UploadStore.sharing(report_store), 30)
    assert await _rule_ids(report_store) == [EXPIRY_RULE_ID]


async def test_a_refusal_is_logged_not_retried(
    report_store: ReportStore, storage_settings: StorageSettings, clean_lifecycle: None
) -> None:
    wrong_key = storage_settings.model_copy(
        update={"aws_secret_access_key": SecretStr("not-the-secret")}
    )
    async with open_store(wrong_key, UploadStore) as refused:
        await set_upload_expiry(refused, 30)  # returns: asking again would not help
    assert await _rule_ids(report_store) == []


async def test_s3_out_of_reach_is_an_outage_to_retry(storage_settings: StorageSettings) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nowhere = storage_settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{port}"})
    async with open_store(nowhere, UploadStore) as unreachable:
        with pytest.raises(DependencyUnavailable):
            await set_upload_expiry(unreachable, 30)
