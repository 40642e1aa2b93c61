"""The uploads' retention, applied once S3 answers (a background connect step)."""

from __future__ import annotations

import structlog
from botocore.exceptions import ClientError

from packguard.common.errors import DependencyUnavailable
from packguard.common.uploads import UploadStore

log = structlog.get_logger(__name__)

_RETRIED_STATUSES = frozenset({408, 429})


async def set_upload_expiry(store: UploadStore, days: int) -> None:
    """Apply the uploads' lifecycle rule; raise DependencyUnavailable while S3 is out.

    An S3 that refuses lifecycle rules (a key without the permission, a server without
    the feature) is logged once and left alone: uploads then stay until an operator
    expires them, and the gateway serves as before.
    """
    try:
        await store.expire_after(days)
    except DependencyUnavailable as exc:
        status = _http_status(exc.__cause__)
        if not _is_refusal(status):
            raise
        log.warning("upload_expiry_not_set", status=status, error=exc.message)
        return
    log.info("upload_expiry_set", days=days)


def _is_refusal(status: int | None) -> bool:
    """An answer that asking again will not change: a 4xx other than a timeout or
    throttling, or 501 Not Implemented."""
    if status is None:
        return False
    return status == 501 or (400 <= status < 500 and status not in _RETRIED_STATUSES)


def _http_status(error: BaseException | None) -> int | None:
    if not isinstance(error, ClientError):
        return None
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None
