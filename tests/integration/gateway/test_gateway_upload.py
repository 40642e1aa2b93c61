"""POST /api/v1/analyze/upload/: stored bytes, the task's purl, dedup, and every bad form."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

import aiohttp
import asyncpg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient

from packguard.common import keys
from packguard.common.messages import TaskMessage, decode_message
from packguard.common.purl import parse_purl
from packguard.common.storage import ReportStore
from packguard.common.uploads import upload_key
from tests.integration.gateway.hostile_client import body_of, exchange, port_of, status_of

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeGateway

pytestmark = pytest.mark.integration

UPLOAD = "/api/v1/analyze/upload/"
ARCHIVE = b"\x1f\x8b pretend archive bytes; the gateway never opens them"
SHA = hashlib.sha256(ARCHIVE).hexdigest()


def _form(
    data: bytes | None = ARCHIVE, filename: str | None = "demo_pkg-1.0.0.tar.gz", **fields: str
) -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields.items():
        form.add_field(name, value)
    if data is not None:
        form.add_field("file", data, filename=filename, content_type="application/gzip")
    return form


async def _upload(
    gateway: TestClient[Any, Any], key: str, form: aiohttp.FormData, **headers: str
) -> tuple[int, dict[str, Any]]:
    response = await gateway.post(UPLOAD, data=form, headers={"X-API-Key": key} | headers)
    return response.status, await response.json()


async def test_upload_stores_the_bytes_and_queues_a_task_for_them(
    gateway: TestClient[Any, Any],
    api_key: str,
    db_pool: asyncpg.Pool,
    redis_client: redis.Redis,
    report_store: ReportStore,
) -> None:
    status, body = await _upload(gateway, api_key, _form(priority="3"))

    assert status == 202, body
    assert body["data"]["outcome"] == "created"
    row = await db_pool.fetchrow("SELECT * FROM tasks WHERE id = $1", UUID(body["data"]["task_id"]))
    package = parse_purl(row["purl"], allow_upload=True)
    assert (package.ecosystem.value, package.name, package.version) == ("pypi", "demo-pkg", "1.0.0")
    assert package.upload is not None
    assert (package.upload.sha256, package.upload.filename) == (SHA, "demo_pkg-1.0.0.tar.gz")
    assert row["priority"] == 3
    assert await report_store.get(upload_key(SHA)) == ARCHIVE
    (_, fields), *_ = await redis_client.xrange(keys.SUBMITTED_STREAM)
    assert decode_message(TaskMessage, fields).purl == row["purl"]


async def test_upload_fields_override_what_the_file_name_says(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool
) -> None:
    form = _form(filename="bundle.tgz", ecosystem="npm", name="@Scope/Thing", version="2.0.0")

    status, body = await _upload(gateway, api_key, form)

    assert status == 202, body
    purl = await db_pool.fetchval(
        "SELECT purl FROM tasks WHERE id = $1", UUID(body["data"]["task_id"])
    )
    package = parse_purl(purl, allow_upload=True)
    assert (package.ecosystem.value, package.name, package.version) == (
        "npm",
        "@scope/thing",
        "2.0.0",
    )


async def test_same_bytes_uploaded_twice_is_deduplicated(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    _, first = await _upload(gateway, api_key, _form())
    status, second = await _upload(gateway, api_key, _form())

    assert status == 200
    assert second["data"]["outcome"] == "deduplicated"
    assert second["data"]["task_id"] == first["data"]["task_id"]


async def test_upload_is_never_answered_by_the_registry_release_it_claims(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    response = await gateway.post(
        "/api/v1/analyze/", json={"purl": "pkg:pypi/demo-pkg@1.0.0"}, headers={"X-API-Key": api_key}
    )
    registry_task = (await response.json())["data"]["task_id"]

    status, body = await _upload(gateway, api_key, _form())

    assert status == 202 and body["data"]["task_id"] != registry_task


async def test_upload_idempotency_key_replays_the_first_answer(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    _, first = await _upload(gateway, api_key, _form(), **{"X-Idempotency-Key": "up-1"})
    status, again = await _upload(gateway, api_key, _form(), **{"X-Idempotency-Key": "up-1"})

    assert status == 202
    assert again["data"]["task_id"] == first["data"]["task_id"]


async def test_client_purl_with_upload_qualifiers_is_rejected(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    purl = f"pkg:pypi/demo-pkg@1.0.0?checksum=sha256:{SHA}&file_name=demo_pkg-1.0.0.tar.gz"
    response = await gateway.post(
        "/api/v1/analyze/", json={"purl": purl}, headers={"X-API-Key": api_key}
    )

    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_purl"


@pytest.mark.parametrize(
    ("form", "code", "field"),
    [
        (_form(data=None, ecosystem="pypi"), "invalid_input", "file"),
        (_form(data=b""), "invalid_input", "file"),
        (_form(filename="archive.bin"), "invalid_input", "ecosystem"),
        (_form(filename="../../etc/x.tar.gz"), "invalid_input", "file"),
        (_form(ecosystem="cargo"), "invalid_input", "ecosystem"),
        (_form(priority="eleven"), "invalid_input", "priority"),
        (_form(colour="blue"), "invalid_input", "colour"),
        (_form(version="1 0"), "invalid_input", "purl"),
    ],
)
async def test_bad_upload_forms_are_400_with_the_field(
    gateway: TestClient[Any, Any], api_key: str, form: aiohttp.FormData, code: str, field: str
) -> None:
    status, body = await _upload(gateway, api_key, form)

    assert status == 400, body
    assert body["error"]["code"] == code
    assert field in body["error"]["fields"]


async def test_upload_over_the_cap_is_413_and_stores_nothing(
    make_gateway: MakeGateway, api_key: str, db_pool: asyncpg.Pool
) -> None:
    gateway = await make_gateway(max_upload_bytes=2048)
    before = await db_pool.fetchval("SELECT count(*) FROM tasks")

    status, body = await _upload(gateway, api_key, _form(data=b"x" * 100_000))

    assert status == 413
    assert body["error"]["code"] == "body_too_large"
    assert await db_pool.fetchval("SELECT count(*) FROM tasks") == before


async def test_upload_that_is_not_multipart_is_415(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    response = await gateway.post(
        UPLOAD, data=ARCHIVE, headers={"X-API-Key": api_key, "Content-Type": "application/gzip"}
    )

    assert response.status == 415
    assert (await response.json())["error"]["code"] == "unsupported_media_type"


async def test_upload_without_a_key_is_401(gateway: TestClient[Any, Any]) -> None:
    response = await gateway.post(UPLOAD, data=_form())

    assert response.status == 401


async def test_stalled_upload_is_408_and_stores_nothing(
    make_gateway: MakeGateway, api_key: str, db_pool: asyncpg.Pool
) -> None:
    gateway = await make_gateway(body_read_timeout_seconds=0.5)
    boundary = "stall"
    part_head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=a.tgz\r\n\r\n"
    ).encode()
    head = (
        f"POST {UPLOAD} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {api_key}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(part_head) + 10_000}\r\n\r\n"
    ).encode()
    before = await db_pool.fetchval("SELECT count(*) FROM tasks")

    # The head and the part's first bytes, then nothing: the server must give up.
    answer = await exchange(port_of(gateway), head + part_head + b"partial", timeout=10)

    assert status_of(answer) == 408
    assert json.loads(body_of(answer))["error"]["code"] == "request_timeout"
    assert await db_pool.fetchval("SELECT count(*) FROM tasks") == before
