"""``POST /api/v1/analyze/upload/``: store the uploaded artifact, then submit it like a purl.

The task's purl names the package the client claims (from the fields or the file name)
plus the standard ``checksum`` and ``file_name`` qualifiers, so the same bytes under the
same name are deduplicated and cached like any release, and never answered from the cache
of the registry release they claim to be.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from packguard.common.api import UploadFields
from packguard.common.errors import InvalidInput, InvalidPurl
from packguard.common.filenames import detect_ecosystem, package_from_filename
from packguard.common.purl import PackageRef, UploadedFile, is_safe_filename, parse_purl
from packguard.common.uploads import UploadStore
from packguard.gateway.bodies import idempotency_key_of
from packguard.gateway.envelope import success_response
from packguard.gateway.handlers import base_url
from packguard.gateway.state import API_KEY, METRICS, SETTINGS, SUBMITTER
from packguard.gateway.upload_form import FILE_FIELD, read_upload_form
from packguard.gateway.views import task_accepted

log = structlog.get_logger(__name__)

UPLOAD_STORE = web.AppKey("upload_store", UploadStore)


def uploaded_package(fields: UploadFields, filename: str, sha256: str) -> PackageRef:
    """The normalized package an upload is analysed as; InvalidInput when it has none."""
    if not is_safe_filename(filename):
        raise InvalidInput(
            "the file name must be a plain name of letters, digits and ._~+!-",
            fields={FILE_FIELD: "invalid filename"},
        )
    ecosystem = fields.ecosystem or detect_ecosystem(filename)
    if ecosystem is None:
        raise InvalidInput(
            f"cannot tell the ecosystem of {filename!r} from its name: send an ecosystem field",
            fields={"ecosystem": "required"},
        )
    named = package_from_filename(filename, ecosystem)
    claimed = PackageRef(
        ecosystem,
        fields.name or named.name,
        fields.version or named.version,
        UploadedFile(sha256=sha256, filename=filename),
    )
    try:
        # The round trip validates the claimed name and version and normalizes them.
        return parse_purl(claimed.purl, allow_upload=True)
    except InvalidPurl as exc:
        raise InvalidInput(f"invalid name or version: {exc.message}", fields=exc.fields) from None


async def analyze_upload(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    idempotency_key = idempotency_key_of(request)
    upload = await read_upload_form(
        request,
        max_file_bytes=settings.max_upload_bytes,
        idle_timeout_seconds=settings.body_read_timeout_seconds,
    )
    try:
        package = uploaded_package(upload.fields, upload.filename, upload.sha256)
        # Stored before the task exists, so a runner never sees a task without its bytes.
        await request.app[UPLOAD_STORE].put(upload.sha256, upload.body)
    finally:
        upload.close()
    submission = await request.app[SUBMITTER].submit_package(
        package, upload.fields, request[API_KEY], idempotency_key
    )
    outcome = "replayed" if submission.is_replay else submission.outcome
    request.app[METRICS].tasks_submitted.labels(outcome).inc()
    record = submission.record
    log.info(
        "upload_submitted",
        task_id=str(record.id),
        purl=record.purl,
        size_bytes=upload.size_bytes,
        outcome=outcome,
    )
    accepted = task_accepted(record, base_url(request), submission.outcome)
    return success_response(request, accepted, status=submission.http_status)
