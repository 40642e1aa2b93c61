"""UploadStore against real S3: content-addressed put, capped and verified fetch."""

from __future__ import annotations

import hashlib
import io
import tempfile
from pathlib import Path

import pytest

from packguard.common.errors import ArtifactTooLarge, DigestMismatch, NotFound
from packguard.common.storage import ReportStore
from packguard.common.uploads import EXPIRY_RULE_ID, UploadStore, upload_key

pytestmark = pytest.mark.integration


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_put_then_fetch_returns_the_same_bytes(
    report_store: ReportStore, tmp_path: Path
) -> None:
    store = UploadStore.sharing(report_store)
    data = b"archive bytes " * 50_000  # beyond one read chunk
    with tempfile.SpooledTemporaryFile(max_size=1024) as spooled:
        spooled.write(data)
        spooled.seek(0)
        await store.put(_sha256(data), spooled)

    size = await store.fetch_to(_sha256(data), tmp_path / "pkg.tgz", max_bytes=len(data))

    assert size == len(data)
    assert (tmp_path / "pkg.tgz").read_bytes() == data


async def test_fetch_over_the_cap_fails_and_leaves_no_file(
    report_store: ReportStore, tmp_path: Path
) -> None:
    store = UploadStore.sharing(report_store)
    data = b"x" * 4096
    await store.put(_sha256(data), io.BytesIO(data))

    with pytest.raises(ArtifactTooLarge):
        await store.fetch_to(_sha256(data), tmp_path / "big.tgz", max_bytes=1000)

    assert not (tmp_path / "big.tgz").exists()


async def test_fetch_of_altered_bytes_is_a_digest_mismatch(
    report_store: ReportStore, tmp_path: Path
) -> None:
    claimed = _sha256(b"what the client sent")
    await report_store._client.put_object(  # an object altered after the upload
        Bucket=report_store._bucket, Key=upload_key(claimed), Body=b"something else"
    )

    with pytest.raises(DigestMismatch):
        await UploadStore.sharing(report_store).fetch_to(
            claimed, tmp_path / "a.tgz", max_bytes=1 << 20
        )

    assert not (tmp_path / "a.tgz").exists()


async def test_fetch_of_a_missing_upload_is_not_found(
    report_store: ReportStore, tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        await UploadStore.sharing(report_store).fetch_to(
            "0" * 64, tmp_path / "missing.tgz", max_bytes=1 << 20
        )


async def _rules(report_store: ReportStore) -> list[dict[str, object]]:
    client = report_store._client  # the same client the store's lifecycle calls use
    try:
        answer = await client.get_bucket_lifecycle_configuration(Bucket=report_store._bucket)
    except client.exceptions.ClientError:
        return []
    rules: list[dict[str, object]] = answer["Rules"]
    return rules


async def test_uploads_expire_by_a_lifecycle_rule_beside_the_operators_own(
    report_store: ReportStore,
) -> None:
    store = UploadStore.sharing(report_store)
    operators = {
        "ID": "operator-logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 3},
    }
    await report_store._client.put_bucket_lifecycle_configuration(
        Bucket=report_store._bucket, LifecycleConfiguration={"Rules": [operators]}
    )
    try:
        await store.expire_after(7)
        await store.expire_after(7)  # unchanged: nothing rewritten or doubled
        by_id = {rule["ID"]: rule for rule in await _rules(report_store)}
        assert by_id.keys() == {"operator-logs", EXPIRY_RULE_ID}
        assert by_id[EXPIRY_RULE_ID]["Filter"] == {"Prefix": "uploads/"}
        assert by_id[EXPIRY_RULE_ID]["Expiration"] == {"Days": 7}

        await store.expire_after(0)
        assert [rule["ID"] for rule in await _rules(report_store)] == ["operator-logs"]
    finally:
        await report_store._client.delete_bucket_lifecycle(Bucket=report_store._bucket)


async def test_expiry_alone_is_removed_with_the_whole_configuration(
    report_store: ReportStore,
) -> None:
    store = UploadStore.sharing(report_store)
    await report_store._client.delete_bucket_lifecycle(Bucket=report_store._bucket)
    await store.expire_after(30)
    assert [rule["ID"] for rule in await _rules(report_store)] == [EXPIRY_RULE_ID]
    await store.expire_after(0)
    assert await _rules(report_store) == []
