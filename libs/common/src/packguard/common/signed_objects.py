"""Whole-object PUT and GET over aiohttp, signed by botocore's own SigV4 signer.

Reports are small and written once per task, so their PUT and GET skip botocore's
per-call machinery (event hooks, endpoint rules, parameter validation, response parsing:
about three quarters of the client's CPU per put, see ``bench/s3_put.py``). The URL is the one
the aiobotocore client itself resolves for the bucket, so path-style or virtual-host
addressing, region and HTTPS follow the client's configuration; retries follow
botocore's standard mode (3 attempts, jittered backoff, the same transient errors).
"""

from __future__ import annotations

import asyncio
import random
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import aiohttp
from aiobotocore.session import AioSession
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.httpsession import get_cert_path
from yarl import URL

from packguard.common.errors import DependencyUnavailable, NotFound

MAX_ATTEMPTS = 3
"""Attempts per request, the first included (botocore's standard retry mode's default)."""
MAX_CONNECTIONS = 32
"""Kept-alive connections for report objects: concurrent writes of a process do not queue."""
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30

_MAX_BACKOFF_SECONDS = 20.0
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# The error codes botocore's standard retry mode treats as transient or throttling.
_TRANSIENT_CODES = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "InternalError",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "ServiceUnavailable",
    }
)
_NOT_FOUND_CODES = frozenset({"", "NoSuchKey", "NotFound"})
_ERROR_CODE = re.compile(rb"<Code>([^<]{1,128})</Code>")
_PROBE_KEY = "packguard-endpoint-probe"


@dataclass(frozen=True, slots=True)
class ObjectEndpoint:
    """Where a bucket's objects live: the URL before the key, and the signing region."""

    prefix: str
    region: str

    @classmethod
    def from_presigned(cls, presigned_url: str, probe_key: str, region: str) -> ObjectEndpoint:
        """Read the prefix off a presigned URL of ``probe_key`` (a key quoting leaves as is)."""
        parts = urlsplit(presigned_url)
        if not parts.path.endswith(f"/{probe_key}"):
            raise ValueError(f"the presigned URL does not end with the key {probe_key!r}")
        path = parts.path[: -len(probe_key)]
        return cls(prefix=f"{parts.scheme}://{parts.netloc}{path}", region=region)

    def url(self, key: str) -> str:
        """The object's URL, its key quoted as botocore quotes a greedy ``{Key+}`` label."""
        return self.prefix + quote(key, safe="/~")


def is_transient(status: int, code: str) -> bool:
    """True when a failed request may succeed if sent again."""
    return status in _TRANSIENT_STATUSES or code in _TRANSIENT_CODES


def backoff_delay(attempt: int, fraction: float) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): full jitter, base 2."""
    return fraction * min(_MAX_BACKOFF_SECONDS, 2.0 ** (attempt - 1))


def error_code(body: bytes) -> str:
    """The ``<Code>`` of an S3 error document, or "" when there is none."""
    found = _ERROR_CODE.search(body)
    return found.group(1).decode("ascii", "replace") if found else ""


class FrozenCredentialSource(Protocol):
    """botocore/aiobotocore credentials: refreshed (when they can be) on every read."""

    def get_frozen_credentials(self) -> Awaitable[Any]: ...


class _Transient(Exception):
    """A failed attempt worth repeating; the message is the final error's."""


class SignedObjects:
    """Whole-object PUT and GET over aiohttp, signed with botocore's SigV4 signer."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        endpoint: ObjectEndpoint | None,
        credentials: FrozenCredentialSource | None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._http = http
        self._endpoint = endpoint
        self._credentials = credentials
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._jitter = jitter

    async def put(self, key: str, body: bytes, content_type: str) -> None:
        await self._send("PUT", key, body, {"Content-Type": content_type})

    async def get(self, key: str) -> bytes:
        return await self._send("GET", key, b"", {})

    async def _send(self, method: str, key: str, body: bytes, headers: Mapping[str, str]) -> bytes:
        endpoint, credentials = self._endpoint, self._credentials
        if endpoint is None or credentials is None:
            raise DependencyUnavailable("object storage unavailable: no credentials found")
        url = endpoint.url(key)
        attempt = 1
        while True:
            try:
                frozen = await credentials.get_frozen_credentials()
                request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
                S3SigV4Auth(frozen, "s3", endpoint.region).add_auth(request)
                return await self._attempt(request, body)
            except _Transient as exc:
                if attempt >= self._max_attempts:
                    raise DependencyUnavailable(str(exc)) from exc
            await self._sleep(backoff_delay(attempt, self._jitter()))
            attempt += 1

    async def _attempt(self, request: Any, body: bytes) -> bytes:
        """Send one signed request; its body, or the error it maps to."""
        try:
            async with self._http.request(
                request.method,
                URL(request.url, encoded=True),  # quoted once, as signed
                data=body or None,
                headers=dict(request.headers.items()),
            ) as response:
                data = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _Transient(f"object storage unavailable: {type(exc).__name__}: {exc}") from exc
        if status < 300:
            return data
        code = error_code(data)
        if is_transient(status, code):
            raise _Transient(f"object storage error: {code or status}")
        if status == 404 and code in _NOT_FOUND_CODES:
            raise NotFound("object not found")
        raise DependencyUnavailable(f"object storage error: {code or status}")


async def resolve_endpoint(client: Any, bucket: str) -> ObjectEndpoint:
    """Where the client sends the bucket's object requests (no network: a local presign)."""
    presigned = await client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": _PROBE_KEY}, ExpiresIn=60
    )
    return ObjectEndpoint.from_presigned(presigned, _PROBE_KEY, client.meta.region_name)


def http_session(session: AioSession) -> aiohttp.ClientSession:
    # The client's CA bundle (AWS_CA_BUNDLE, else botocore's), so both trust the same.
    cafile = session.get_config_variable("ca_bundle") or get_cert_path(True)
    tls = ssl.create_default_context(cafile=cafile)
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ssl=tls)
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=CONNECT_TIMEOUT_SECONDS, sock_read=READ_TIMEOUT_SECONDS
    )
    return aiohttp.ClientSession(connector=connector, timeout=timeout)
