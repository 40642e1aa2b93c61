"""Uploaded artifacts in object storage: content-addressed, size-capped, digest-verified.

The gateway stores an upload's bytes under its SHA-256 and never opens them; the runner
copies them into the task's input directory, checking size and digest on the way, exactly
as it does for a registry download.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import ClientError

from packguard.common.errors import ArtifactTooLarge, DigestMismatch
from packguard.common.storage import ObjectStore, translated_storage_errors

_CHUNK_BYTES = 256 * 1024
_CONTENT_TYPE = "application/octet-stream"
UPLOADS_PREFIX = "uploads/"
EXPIRY_RULE_ID = "packguard-upload-expiry"
"""Our lifecycle rule's ID: the bucket's other rules (an operator's) are left as they are."""


def upload_key(sha256: str) -> str:
    """The object key of an upload: its digest, so the same bytes are stored once."""
    return f"{UPLOADS_PREFIX}sha256/{sha256}"


def with_upload_expiry(
    rules: Sequence[Mapping[str, Any]], days: int
) -> list[Mapping[str, Any]] | None:
    """``rules`` with ours expiring uploads after ``days`` (none when 0); None when
    ``rules`` already say exactly that, so an unchanged bucket is not rewritten."""
    others = [rule for rule in rules if rule.get("ID") != EXPIRY_RULE_ID]
    ours: list[Mapping[str, Any]] = []
    if days > 0:
        ours.append(
            {
                "ID": EXPIRY_RULE_ID,
                "Filter": {"Prefix": UPLOADS_PREFIX},
                "Status": "Enabled",
                "Expiration": {"Days": days},
            }
        )
    wanted = others + ours
    return None if list(rules) == wanted else wanted


class UploadStore(ObjectStore):
    """Puts uploaded artifacts and fetches them back to disk."""

    async def put(self, sha256: str, body: IO[bytes]) -> None:
        """Store ``body`` (read from its current position) under ``sha256``'s key."""
        with translated_storage_errors():
            await self._client.put_object(
                Bucket=self._bucket, Key=upload_key(sha256), Body=body, ContentType=_CONTENT_TYPE
            )

    async def expire_after(self, days: int) -> None:
        """Let the bucket's lifecycle delete uploads ``days`` after they were last written
        (each upload rewrites its object); 0 keeps them. Other rules are kept."""
        with translated_storage_errors():
            try:
                current = await self._client.get_bucket_lifecycle_configuration(Bucket=self._bucket)
                rules = current.get("Rules", [])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
                    raise
                rules = []
            wanted = with_upload_expiry(rules, days)
            if wanted is None:
                return
            if wanted:
                await self._client.put_bucket_lifecycle_configuration(
                    Bucket=self._bucket, LifecycleConfiguration={"Rules": wanted}
                )
            else:
                await self._client.delete_bucket_lifecycle(Bucket=self._bucket)

    async def fetch_to(self, sha256: str, target: Path, *, max_bytes: int) -> int:
        """Write the upload to ``target``; its size. Removes ``target`` on any failure."""
        digest = hashlib.sha256()
        size = 0
        try:
            with translated_storage_errors():
                response = await self._client.get_object(
                    Bucket=self._bucket, Key=upload_key(sha256)
                )
                if response.get("ContentLength", 0) > max_bytes:
                    raise ArtifactTooLarge(f"upload exceeds the cap of {max_bytes} bytes")
                async with response["Body"] as stream:
                    with target.open("wb") as sink:
                        while chunk := await stream.read(_CHUNK_BYTES):
                            size += len(chunk)
                            if size > max_bytes:
                                raise ArtifactTooLarge(
                                    f"upload exceeds the cap of {max_bytes} bytes"
                                )
                            digest.update(chunk)
                            sink.write(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        if not hmac.compare_digest(digest.hexdigest(), sha256):
            target.unlink(missing_ok=True)
            raise DigestMismatch("the stored upload does not match its SHA-256")
        return size
