"""The four services as real child processes, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    name: str
    module: str
    env: dict[str, str]
    log_path: Path
    health_url: str
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    @property
    def ready_url(self) -> str:
        return self.health_url.replace("/health/", "/ready/")

    async def wait_healthy(self, timeout: float = 60) -> None:
        """Until the process answers at all (/health/), whatever its dependencies."""
        await self._wait_for(self.health_url, "healthy", timeout)

    async def wait_ready(self, timeout: float = 60) -> None:
        """Until it has reached every dependency and does its work (/ready/): a service
        starts before its servers answer, so /health/ alone says nothing about them."""
        await self._wait_for(self.ready_url, "ready", timeout)

    async def _wait_for(self, url: str, what: str, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with aiohttp.ClientSession() as session:
            while asyncio.get_running_loop().time() < deadline:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
                try:
                    async with session.get(url) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} never became {what}: {self.log_tail()}")

    def kill(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(20):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Pipeline:
    """Gateway, scheduler, reporter and any number of runners sharing one stack."""

    base_env: dict[str, str]
    log_dir: Path
    gateway_url: str = ""
    services: list[ServiceProcess] = field(default_factory=list)

    def _service(self, name: str, module: str, extra: dict[str, str]) -> ServiceProcess:
        metrics_port = free_port()
        env = {**self.base_env, "METRICS_PORT": str(metrics_port), "LOG_LEVEL": "INFO", **extra}
        health = f"http://127.0.0.1:{metrics_port}/health/"
        if module == "packguard.gateway":
            health = f"{self.gateway_url}/health/"
        service = ServiceProcess(name, module, env, self.log_dir / f"{name}.log", health)
        self.services.append(service)
        return service

    async def start(self, runners: int = 1, *, ready: bool = True) -> None:
        """Start the services; return once each is ready (``ready=False``: once each
        answers, for tests that start them while a dependency is down)."""
        port = free_port()
        self.gateway_url = f"http://127.0.0.1:{port}"
        started = [
            self._service("gateway", "packguard.gateway", {"PORT": str(port)}),
            self._service("scheduler", "packguard.scheduler", {}),
            self._service("reporter", "packguard.reporter", {}),
        ]
        started += [await self.add_runner(f"runner-{i}", start=False) for i in range(runners)]
        await asyncio.gather(*(s.start() for s in started))
        if ready:
            await asyncio.gather(*(s.wait_ready() for s in started))
        else:
            await asyncio.gather(*(s.wait_healthy() for s in started))

    async def add_runner(
        self, name: str, *, start: bool = True, env: dict[str, str] | None = None
    ) -> ServiceProcess:
        """A runner named ``name``; ``env`` overrides the base env (e.g. its backend)."""
        runner = self._service(name, "packguard.runner", {"CONSUMER_NAME": name, **(env or {})})
        if start:
            await runner.start()
            await runner.wait_ready()
        return runner

    def get(self, name: str) -> ServiceProcess:
        return next(s for s in self.services if s.name == name)

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.services))

    def logs(self) -> str:
        return "\n".join(f"--- {s.name}\n{s.log_tail()}" for s in self.services)


def sandbox_env(
    *, docker_host: str, image: str, work_dir: Path, pypi_index_url: str, npm_registry_url: str
) -> dict[str, str]:
    """What runners need beside the connections to run real analyses: the engine, the
    analyzer image, a work dir, and the registries to fetch from."""
    return {
        "DOCKER_HOST": docker_host,
        "ANALYZER_IMAGE": image,
        "WORK_DIR": str(work_dir),
        "PYPI_INDEX_URL": pypi_index_url,
        "NPM_REGISTRY_URL": npm_registry_url,
    }


def create_api_key(database_url: str, name: str, *, rate_limit: int) -> str:
    """A key made the way an operator makes one: ``packguard apikey create``."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "packguard.cli",
            "apikey",
            "create",
            "--name",
            name,
            "--rate-limit",
            str(rate_limit),
        ],
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    key = result.stdout.strip()
    assert key and "\n" not in key, result.stderr
    return key
