"""Registry HTTP calls with the error translation every adapter shares."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from packguard.common.errors import PackageNotFound, RegistryUnavailable


async def fetch_json(
    session: aiohttp.ClientSession, url: str, *, accept: str = "application/json"
) -> Any:
    """GET ``url`` as JSON: 404/410 → PackageNotFound, 5xx/network → RegistryUnavailable."""
    try:
        async with session.get(url, headers={"Accept": accept}) as response:
            if response.status in (404, 410):
                raise PackageNotFound(f"registry has no such package ({response.status})")
            if response.status >= 500 or response.status == 429:
                raise RegistryUnavailable(f"registry answered {response.status}")
            if response.status != 200:
                raise PackageNotFound(f"registry answered {response.status}")
            return json.loads(await response.read())
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RegistryUnavailable(f"registry unreachable: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise RegistryUnavailable(f"registry sent invalid JSON: {exc}") from exc
