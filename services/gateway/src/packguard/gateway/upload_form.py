"""Reading an upload's multipart body: the file streamed to a spool, hashed and capped.

The bytes are never parsed here (untrusted archives are opened only in the sandbox); the
gateway only counts, hashes and stores them.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import IO, TypeVar

from aiohttp import BodyPartReader, MultipartReader, web

from packguard.common.api import UploadFields
from packguard.common.errors import BodyTooLarge, InvalidInput, UnsupportedMediaType
from packguard.gateway.bodies import validated
from packguard.gateway.errors import RequestTimeout

T = TypeVar("T")

FILE_FIELD = "file"
MULTIPART = "multipart/form-data"
_FIELD_MAX_BYTES = 1024
_FORM_OVERHEAD_BYTES = 64 * 1024
# Small uploads stay in memory; larger ones spill to the temp dir (an emptyDir on k8s).
_SPOOL_IN_MEMORY_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedUpload:
    fields: UploadFields
    filename: str
    sha256: str
    size_bytes: int
    body: IO[bytes]
    """Positioned at the start; the caller closes it (``close``)."""

    def close(self) -> None:
        self.body.close()


async def read_upload_form(
    request: web.Request, *, max_file_bytes: int, idle_timeout_seconds: float
) -> ReceivedUpload:
    """The form's file and fields: 415 unless multipart, 413 over the cap, 400 if invalid,
    408 when the client sends nothing for ``idle_timeout_seconds`` (a stalled upload)."""
    if request.content_type != MULTIPART:
        raise UnsupportedMediaType(
            f"Content-Type must be {MULTIPART}, not {request.content_type!r}"
        )
    if (request.content_length or 0) > max_file_bytes + _FORM_OVERHEAD_BYTES:
        raise BodyTooLarge(f"the upload is larger than {max_file_bytes} bytes")
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError) as exc:
        raise InvalidInput(f"malformed multipart body: {exc}") from None
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    try:
        return await _read_parts(reader, spool, max_file_bytes, idle_timeout_seconds)
    except BaseException:
        spool.close()
        raise


async def _read_parts(
    reader: MultipartReader, spool: IO[bytes], max_file_bytes: int, idle_seconds: float
) -> ReceivedUpload:
    texts: dict[str, str] = {}
    file_part: tuple[str, str, int] | None = None
    try:
        while (part := await _idle_bounded(reader.next(), idle_seconds)) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                raise InvalidInput("every form part needs a name; nested multipart is not allowed")
            if part.name == FILE_FIELD:
                if file_part is not None:
                    raise InvalidInput(
                        "exactly one file part is allowed", fields={FILE_FIELD: "repeated"}
                    )
                file_part = await _spool_file(part, spool, max_file_bytes, idle_seconds)
            elif part.name in texts:
                raise InvalidInput(
                    f"field {part.name!r} is repeated", fields={part.name: "repeated"}
                )
            else:
                texts[part.name] = await _read_text(part, idle_seconds)
    except ValueError as exc:  # aiohttp's parser rejects broken boundaries/headers this way
        raise InvalidInput(f"malformed multipart body: {exc}") from None
    fields = validated(UploadFields, texts, what="form")
    if file_part is None:
        raise InvalidInput("the form has no file part", fields={FILE_FIELD: "required"})
    filename, sha256, size = file_part
    spool.seek(0)
    return ReceivedUpload(fields, filename, sha256, size, spool)


async def _spool_file(
    part: BodyPartReader, spool: IO[bytes], max_bytes: int, idle_seconds: float
) -> tuple[str, str, int]:
    filename = part.filename
    if not filename:
        raise InvalidInput("the file part needs a filename", fields={FILE_FIELD: "no filename"})
    digest = hashlib.sha256()
    size = 0
    while chunk := await _idle_bounded(part.read_chunk(), idle_seconds):
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"the upload is larger than {max_bytes} bytes")
        digest.update(chunk)
        spool.write(chunk)
    if size == 0:
        raise InvalidInput("the uploaded file is empty", fields={FILE_FIELD: "empty"})
    return filename, digest.hexdigest(), size


async def _read_text(part: BodyPartReader, idle_seconds: float) -> str:
    raw = bytearray()
    while chunk := await _idle_bounded(part.read_chunk(_FIELD_MAX_BYTES), idle_seconds):
        raw += chunk
        if len(raw) > _FIELD_MAX_BYTES:
            raise InvalidInput(
                f"field {part.name!r} is longer than {_FIELD_MAX_BYTES} bytes",
                fields={str(part.name): "too long"},
            )
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise InvalidInput(
            f"field {part.name!r} is not UTF-8", fields={str(part.name): "not UTF-8"}
        ) from None


async def _idle_bounded(read: Awaitable[T], seconds: float) -> T:
    """One read of the body; a large upload may take long, but never stall this long."""
    try:
        async with asyncio.timeout(seconds):
            return await read
    except TimeoutError:
        raise RequestTimeout(f"the upload sent nothing for {seconds:g} s") from None
