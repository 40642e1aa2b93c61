"""Malformed and hostile requests: each gets a clear 4xx, and the gateway keeps serving.

Huge and undecodable bodies, deep JSON, wrong content types, header floods and slow
clients. Unicode and SQL-looking input is in test_hostile_values.py, keys and tenants in
test_hostile_auth.py. All traffic goes to a loopback test server and every loop is
bounded.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.integration.gateway.hostile_client import (
    ANALYZE,
    REPORTS,
    SlowClient,
    assert_still_serving,
    bearer,
    body_of,
    error_of,
    exchange,
    port_of,
    raw_head,
    status_of,
    task_count,
)

if TYPE_CHECKING:  # fixtures' types only; conftest is not importable at run time
    from conftest import MakeGateway

pytestmark = pytest.mark.integration

MAX_BODY = 4096  # the gateway fixture's max_body_bytes


# --- bodies ----------------------------------------------------------------------------


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 1024):
        yield b" " * 1024


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b" " * 1_000_000, {}),
        (None, {}),  # chunked, no Content-Length
        (gzip.compress(b" " * 1_000_000), {"Content-Encoding": "gzip"}),  # 1 KiB inflating to 1 MB
    ],
    ids=["content-length", "chunked", "gzip-bomb"],
)
async def test_huge_body_is_413_in_the_envelope(
    gateway: TestClient[Any, Any],
    api_key: str,
    db_pool: asyncpg.Pool,
    body: bytes | None,
    headers: dict[str, str],
) -> None:
    data = body if body is not None else _chunks(1_000_000)
    response = await gateway.post(
        ANALYZE,
        data=data,
        headers=bearer(api_key) | {"Content-Type": "application/json"} | headers,
    )

    assert response.status == 413
    error = await error_of(response)
    assert error["code"] == "body_too_large"
    assert str(MAX_BODY) in error["message"]
    assert await task_count(db_pool) == 0
    await assert_still_serving(gateway, api_key)


async def test_declared_length_beyond_the_limit_is_413_before_the_body_is_sent(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    head = raw_head(
        "POST", ANALYZE, api_key, "Content-Type: application/json", "Content-Length: 10000000000"
    )

    response = await exchange(port_of(gateway), head)

    assert status_of(response) == 413
    assert json.loads(body_of(response))["error"]["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("encoding", "body"),
    [("gzip", b"not gzip at all"), ("deflate", b"\x00\x01\x02"), ("br", b"x"), ("zstd", b"x")],
)
async def test_undecodable_body_is_400(
    gateway: TestClient[Any, Any], api_key: str, encoding: str, body: bytes
) -> None:
    response = await gateway.post(
        ANALYZE,
        data=body,
        headers=bearer(api_key)
        | {"Content-Type": "application/json", "Content-Encoding": encoding},
    )

    assert response.status == 400
    # Found while reading the body: the envelope. Found by the HTTP parser before any
    # handler runs (an unknown coding, a bad first block): aiohttp's plain-text 400.
    if response.content_type == "application/json":
        assert (await error_of(response))["code"] == "invalid_body"
    await assert_still_serving(gateway, api_key)


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("[" * 2000 + "]" * 2000, "invalid_json"),  # past the decoder's recursion limit
        ('{"purl": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}", "invalid_input"),
        ('{"purl": "pkg:pypi/six@1.16.0", "priority": ' + "9" * 4000 + "}", "invalid_input"),
        ('{"purl": "pkg:pypi/six@1.16.0", "priority": 1e999}', "invalid_input"),
        ("NaN", "invalid_input"),
    ],
    ids=["nested-arrays", "nested-objects", "huge-integer", "infinity", "nan"],
)
async def test_pathological_json_is_400(
    gateway: TestClient[Any, Any], api_key: str, document: str, code: str
) -> None:
    assert len(document) <= MAX_BODY
    response = await gateway.post(
        ANALYZE, data=document, headers=bearer(api_key) | {"Content-Type": "application/json"}
    )

    assert response.status == 400
    assert (await error_of(response))["code"] == code


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json-patch+json",
        "application/jsonx",
        "application/octet-stream",
    ],
)
async def test_wrong_content_type_is_415_even_with_a_json_body(
    gateway: TestClient[Any, Any], api_key: str, db_pool: asyncpg.Pool, content_type: str
) -> None:
    response = await gateway.post(
        ANALYZE,
        data=b'{"purl": "pkg:pypi/six@1.16.0"}',
        headers=bearer(api_key) | {"Content-Type": content_type},
    )

    assert response.status == 415
    assert (await error_of(response))["code"] == "unsupported_media_type"
    assert await task_count(db_pool) == 0


async def test_missing_content_type_is_415(gateway: TestClient[Any, Any], api_key: str) -> None:
    body = b'{"purl": "pkg:pypi/six@1.16.0"}'
    head = raw_head("POST", ANALYZE, api_key, f"Content-Length: {len(body)}", "Connection: close")

    response = await exchange(port_of(gateway), head + body)

    assert status_of(response) == 415
    assert json.loads(body_of(response))["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/json;"]
)
async def test_json_content_type_variants_are_accepted(
    gateway: TestClient[Any, Any], api_key: str, content_type: str
) -> None:
    response = await gateway.post(
        ANALYZE,
        data=b'{"purl": "pkg:pypi/six@1.16.0"}',
        headers=bearer(api_key) | {"Content-Type": content_type},
    )

    assert response.status == 202, await response.text()


# --- header floods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        [f"X-Flood-{i}: v" for i in range(200)],  # over the header count
        ["X-Big: " + "a" * 9000],  # one line over the line limit
        ["X-Dup: v"] * 200,  # the same header repeated
        ["Bad Header Name: v"],  # not a token
        ["X-Ctl: a\x01b"],  # a control character
    ],
    ids=["many-headers", "long-line", "duplicates", "bad-name", "control-char"],
)
async def test_malformed_or_oversized_heads_are_400_and_the_gateway_keeps_serving(
    gateway: TestClient[Any, Any], api_key: str, extra: list[str]
) -> None:
    response = await exchange(port_of(gateway), raw_head("GET", REPORTS, api_key, *extra))

    assert status_of(response) == 400
    await assert_still_serving(gateway, api_key)


async def test_long_request_line_is_400(gateway: TestClient[Any, Any], api_key: str) -> None:
    response = await exchange(
        port_of(gateway), raw_head("GET", REPORTS + "?" + "a" * 20000, api_key)
    )

    assert status_of(response) == 400


async def test_headers_over_the_total_budget_are_431_in_the_envelope(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    # Each line within the parser's limits; together over the 32 KiB budget.
    headers = bearer(api_key) | {f"X-Bulk-{i}": "b" * 8000 for i in range(5)}

    response = await gateway.get(REPORTS, headers=headers)

    assert response.status == 431
    assert (await error_of(response))["code"] == "headers_too_large"


async def test_concurrent_header_floods_are_refused_while_others_are_served(
    gateway: TestClient[Any, Any], api_key: str
) -> None:
    port = port_of(gateway)
    bulk = [f"X-Bulk-{i}: {'b' * 8000}" for i in range(60)]
    many = [f"X-Flood-{i}: v" for i in range(500)]
    floods = [raw_head("GET", REPORTS, api_key, *(bulk if i % 2 else many)) for i in range(20)]

    responses = await asyncio.gather(*(exchange(port, flood) for flood in floods))
    served = await gateway.get(REPORTS, headers=bearer(api_key))

    assert {status_of(r) for r in responses} <= {400, 431}
    assert served.status == 200


# --- slow clients ----------------------------------------------------------------------


async def test_slow_clients_are_cut_off_and_others_are_still_served(
    make_gateway: MakeGateway, api_key: str
) -> None:
    gateway = await make_gateway(keepalive_timeout_seconds=1, body_read_timeout_seconds=1)
    port = port_of(gateway)
    body_head = raw_head(
        "POST", ANALYZE, api_key, "Content-Type: application/json", "Content-Length: 400"
    )
    header_drips = [
        SlowClient(port, b"GET /api/v1/reports/ HTTP/1.1\r\nX-Slow: ", b"a" * 400),
        SlowClient(port, b"", b"GET /api/v1/reports/?" + b"a" * 380),
        SlowClient(port, b"", b"GET /api/v1/reports/?" + b"a" * 380),
    ]
    body_drips = [SlowClient(port, body_head, b" " * 400) for _ in range(2)]
    silent = [SlowClient(port, b"", b"") for _ in range(2)]
    slow = [*header_drips, *body_drips, *silent]
    deadline = asyncio.get_running_loop().time() + 30

    dripping = [asyncio.create_task(client.run(deadline)) for client in slow]
    # Fresh connections: the 1 s keep-alive would close pooled ones between requests.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        for _ in range(5):
            async with session.get(gateway.make_url(REPORTS), headers=bearer(api_key)) as served:
                assert served.status == 200
    await asyncio.gather(*dripping)

    assert all(client.closed_by_server for client in slow)
    for client in body_drips:
        assert status_of(client.received) == 408
        assert json.loads(body_of(client.received))["error"]["code"] == "request_timeout"
    assert all(client.received == b"" for client in [*header_drips, *silent])
    await assert_still_serving(gateway, api_key)
