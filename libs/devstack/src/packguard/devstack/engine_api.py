"""The two Docker Engine API calls aiodocker has no public method for: `/_ping` and import.

(aiodocker's `images.import_image` posts to `/images/load`, i.e. `docker load`, not
`docker import` of a root filesystem tarball.)
"""

import json
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiohttp

from packguard.devstack.errors import EngineUnavailable


@asynccontextmanager
async def engine_session(host: str) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """A session and base URL for a DOCKER_HOST value (`unix://PATH` or `tcp://HOST:PORT`)."""
    scheme, _, rest = host.partition("://")
    connector: aiohttp.BaseConnector
    if scheme == "unix":
        connector, base_url = aiohttp.UnixConnector(path=rest), "http://docker"
    elif scheme in {"tcp", "http"}:
        connector, base_url = aiohttp.TCPConnector(), f"http://{rest}"
    elif scheme == "https":
        connector, base_url = aiohttp.TCPConnector(), f"https://{rest}"
    else:
        raise EngineUnavailable(f"unsupported DOCKER_HOST {host!r}: use unix:// or tcp://")
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session, base_url


async def ping_engine(host: str, timeout: float = 2.0) -> bool:
    """True when the engine at `host` answers `GET /_ping` with OK."""
    try:
        async with engine_session(host) as (session, base_url):
            client_timeout = aiohttp.ClientTimeout(total=timeout)
            async with session.get(f"{base_url}/_ping", timeout=client_timeout) as response:
                return response.status == 200 and (await response.text()).strip() == "OK"
    except (aiohttp.ClientError, OSError, TimeoutError):
        return False


async def import_rootfs(
    host: str,
    tarball: AsyncIterable[bytes],
    *,
    repository: str,
    tag: str,
    changes: Sequence[str] = (),
) -> None:
    """`docker import - REPOSITORY:TAG` of a streamed root filesystem tarball."""
    params = [("fromSrc", "-"), ("repo", repository), ("tag", tag)]
    params += [("changes", change) for change in changes]
    async with (
        engine_session(host) as (session, base_url),
        session.post(
            f"{base_url}/images/create",
            params=params,
            data=tarball,
            headers={"Content-Type": "application/x-tar"},
            timeout=aiohttp.ClientTimeout(total=None),  # the caller bounds it with asyncio.timeout
        ) as response,
    ):
        body = await response.text()
    if response.status != 200:
        raise EngineUnavailable(f"image import failed ({response.status}): {body[:500]}")
    for line in body.splitlines():
        message = json.loads(line) if line.strip().startswith("{") else {}
        if "error" in message:
            raise EngineUnavailable(f"image import failed: {message['error']}")
