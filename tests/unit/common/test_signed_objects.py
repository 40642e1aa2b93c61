"""Report objects' signed requests: where they go, what is retried, what errors become.

The aiobotocore clients here only presign (local, no socket); the HTTP session is a fake
that answers from a script, so the retry and error mapping run without a network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import pytest
from aiobotocore.credentials import AioCredentials
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.utils import percent_encode

from packguard.common.errors import DependencyUnavailable, NotFound
from packguard.common.signed_objects import (
    MAX_ATTEMPTS,
    ObjectEndpoint,
    SignedObjects,
    backoff_delay,
    error_code,
    is_transient,
    resolve_endpoint,
)

PROBE = "probe-key"


@pytest.mark.parametrize(
    ("presigned", "prefix"),
    [
        (
            "http://127.0.0.1:18333/packguard/probe-key?X-Amz-Date=1",
            "http://127.0.0.1:18333/packguard/",
        ),
        ("https://packguard.nyc3.example/probe-key?Signature=x", "https://packguard.nyc3.example/"),
        ("https://s3.example:8443/b/probe-key", "https://s3.example:8443/b/"),
    ],
)
def test_endpoint_from_presigned_url_keeps_everything_before_the_key(
    presigned: str, prefix: str
) -> None:
    assert ObjectEndpoint.from_presigned(presigned, PROBE, "r").prefix == prefix


def test_endpoint_from_presigned_url_without_the_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="probe-key"):
        ObjectEndpoint.from_presigned("http://127.0.0.1/packguard/other", PROBE, "r")


@pytest.mark.parametrize(
    "key",
    [
        "reports/npm/@babel/core/7.22.0/1f0e.json",
        "reports/pypi/a b/1.0+local/x.json",
        "reports/npm/ünïcode/1.0.0~rc/x.json",
        "reports/pypi/100%/1/x?y#z.json",
    ],
)
def test_endpoint_url_quotes_the_key_as_botocore_does(key: str) -> None:
    endpoint = ObjectEndpoint("http://127.0.0.1:1/b/", "r")
    assert endpoint.url(key) == "http://127.0.0.1:1/b/" + percent_encode(key, safe="/~")


async def _presigned_endpoint(endpoint_url: str | None, region: str, style: str) -> ObjectEndpoint:
    async with get_session().create_client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(s3={"addressing_style": style}),
    ) as client:
        return await resolve_endpoint(client, "packguard")


@pytest.mark.parametrize(
    ("endpoint_url", "region", "style", "prefix"),
    [
        ("http://127.0.0.1:18333", "us-east-1", "path", "http://127.0.0.1:18333/packguard/"),
        (
            "https://nyc3.digitaloceanspaces.com",
            "nyc3",
            "path",
            "https://nyc3.digitaloceanspaces.com/packguard/",
        ),
        (
            "https://nyc3.digitaloceanspaces.com",
            "nyc3",
            "virtual",
            "https://packguard.nyc3.digitaloceanspaces.com/",
        ),
        (None, "eu-west-1", "path", "https://s3.eu-west-1.amazonaws.com/packguard/"),
        (None, "eu-west-1", "virtual", "https://packguard.s3.eu-west-1.amazonaws.com/"),
    ],
)
async def test_endpoint_follows_the_clients_own_resolution(
    endpoint_url: str | None, region: str, style: str, prefix: str
) -> None:
    endpoint = await _presigned_endpoint(endpoint_url, region, style)
    assert endpoint == ObjectEndpoint(prefix, region)


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (500, "InternalError", True),
        (503, "SlowDown", True),
        (429, "", True),
        (400, "RequestTimeout", True),
        (404, "NoSuchKey", False),
        (403, "SignatureDoesNotMatch", False),
        (400, "InvalidArgument", False),
    ],
)
def test_is_transient_matches_botocores_standard_retry_classes(
    status: int, code: str, transient: bool
) -> None:
    assert is_transient(status, code) is transient


def test_backoff_delay_is_jittered_exponential_and_capped() -> None:
    assert [backoff_delay(n, 1.0) for n in (1, 2, 3, 10)] == [1.0, 2.0, 4.0, 20.0]
    assert backoff_delay(3, 0.5) == 2.0
    assert backoff_delay(1, 0.0) == 0.0


def test_error_code_reads_the_s3_error_document() -> None:
    body = b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code><Message>m</Message></Error>"
    assert error_code(body) == "NoSuchKey"
    assert error_code(b"") == ""
    assert error_code(b"<html>bad gateway</html>") == ""


@dataclass
class _Answer:
    status: int = 200
    body: bytes = b""
    error: Exception | None = None


@dataclass
class _ScriptedHttp:
    """Stands in for aiohttp.ClientSession.request: answers in order, records requests."""

    answers: Iterator[_Answer]
    sent: list[dict[str, Any]] = field(default_factory=list)

    @asynccontextmanager
    async def request(self, method: str, url: Any, **kwargs: Any) -> AsyncIterator[Any]:
        self.sent.append({"method": method, "url": str(url), **kwargs})
        answer = next(self.answers)
        if answer.error is not None:
            raise answer.error

        class _Response:
            status = answer.status

            async def read(self) -> bytes:
                return answer.body

        yield _Response()


def _objects(*answers: _Answer) -> tuple[SignedObjects, _ScriptedHttp, list[float]]:
    http = _ScriptedHttp(iter(answers))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    objects = SignedObjects(
        cast(aiohttp.ClientSession, http),
        ObjectEndpoint("http://127.0.0.1:1/b/", "us-east-1"),
        AioCredentials("key-id", "secret"),
        sleep=sleep,
        jitter=lambda: 1.0,
    )
    return objects, http, waits


def _xml_error(code: str) -> bytes:
    return f"<Error><Code>{code}</Code></Error>".encode()


async def test_put_sends_a_sigv4_signed_request_to_the_quoted_key() -> None:
    objects, http, waits = _objects(_Answer(200))

    await objects.put("reports/npm/@s/p/1.json", b"{}", "application/json")

    (sent,) = http.sent
    assert sent["method"] == "PUT"
    assert sent["url"] == "http://127.0.0.1:1/b/reports/npm/%40s/p/1.json"
    assert sent["data"] == b"{}"
    headers = sent["headers"]
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=key-id/")
    assert "/us-east-1/s3/aws4_request" in headers["Authorization"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Amz-Content-SHA256"] != "UNSIGNED-PAYLOAD"  # plain HTTP: body signed
    assert waits == []


async def test_transient_errors_are_retried_then_succeed() -> None:
    objects, http, waits = _objects(
        _Answer(503, _xml_error("SlowDown")),
        _Answer(error=aiohttp.ServerDisconnectedError()),
        _Answer(200, b"report"),
    )

    assert await objects.get("k") == b"report"

    assert len(http.sent) == 3
    assert waits == [1.0, 2.0]


async def test_transient_errors_past_the_attempts_are_unavailable() -> None:
    objects, http, _ = _objects(*[_Answer(error=ConnectionRefusedError())] * MAX_ATTEMPTS)

    with pytest.raises(DependencyUnavailable, match="unavailable"):
        await objects.put("k", b"{}", "application/json")

    assert len(http.sent) == MAX_ATTEMPTS


async def test_missing_key_is_not_found_at_once() -> None:
    objects, http, _ = _objects(_Answer(404, _xml_error("NoSuchKey")))

    with pytest.raises(NotFound):
        await objects.get("k")

    assert len(http.sent) == 1


@pytest.mark.parametrize(
    ("status", "code"), [(404, "NoSuchBucket"), (403, "SignatureDoesNotMatch"), (400, "")]
)
async def test_other_errors_are_unavailable_at_once(status: int, code: str) -> None:
    objects, http, _ = _objects(_Answer(status, _xml_error(code) if code else b""))

    with pytest.raises(DependencyUnavailable) as raised:
        await objects.get("k")

    assert (code or str(status)) in str(raised.value)
    assert len(http.sent) == 1


async def test_without_credentials_every_request_is_unavailable() -> None:
    objects = SignedObjects(cast(aiohttp.ClientSession, _ScriptedHttp(iter(()))), None, None)

    with pytest.raises(DependencyUnavailable, match="credentials"):
        await objects.get("k")
