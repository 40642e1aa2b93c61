"""The whole dev stack in a tmp state dir: servers, analyzer image, four services, dev key."""

import shlex
from pathlib import Path

import aiohttp
import pytest

from packguard.devstack import stack_status, start_dev_stack, stop_stack
from packguard.devstack.processes import is_running

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio]

SERVICES = {"gateway", "scheduler", "runner", "reporter"}


def _env_file(state_dir: Path) -> dict[str, str]:
    lines = (state_dir / "env").read_text().splitlines()
    pairs = [shlex.split(line.removeprefix("export "))[0] for line in lines]
    return dict(pair.split("=", 1) for pair in pairs)


async def _status_of_queue(url: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/api/v1/queue/status/", headers=headers) as response,
    ):
        return response.status


@pytest.mark.timeout(1800)
async def test_start_dev_stack_services_answer_with_dev_key_reused_then_stopped(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    dev = await start_dev_stack(state_dir, free_ports=True)
    try:
        assert dev.services is not None
        assert set(dev.services.records) == SERVICES
        assert dev.gateway_url is not None
        assert dev.api_key is not None
        env = _env_file(state_dir)
        assert env["PACKGUARD_URL"] == dev.gateway_url
        assert env["PACKGUARD_API_KEY"] == dev.api_key
        assert env["DOCKER_HOST"] == dev.stack.docker_host
        assert (state_dir / "dev-api-key").stat().st_mode & 0o777 == 0o600

        assert await _status_of_queue(dev.gateway_url, dev.api_key) == 200
        assert await _status_of_queue(dev.gateway_url, None) == 401

        statuses = {s.name: s.state for s in await stack_status(state_dir)}
        assert {name: statuses[name] for name in SERVICES} == dict.fromkeys(SERVICES, "running")

        again = await start_dev_stack(state_dir, free_ports=True)
        assert again.services is not None
        assert again.services.reused == SERVICES
        assert again.services.records == dev.services.records
        assert again.api_key == dev.api_key
    finally:
        await stop_stack(state_dir, purge=True)

    for record in dev.services.records.values():
        assert not is_running(record.pid)
    assert not state_dir.exists()
