"""The real analyses' packages, served by the loopback fixture registry."""

from __future__ import annotations

from collections.abc import Iterable

from bench.chaos.plan import RealPackage
from tests.fixtures.packages import npm_tarball, pypi_sdist
from tests.fixtures.registry import FixtureRegistry

UNAVAILABLE_STATUS = 503


def stock_registry(registry: FixtureRegistry, packages: Iterable[RealPackage]) -> None:
    """Serve each ``ok`` package, leave ``missing`` ones out, make ``unavailable`` ones 503."""
    for number, package in enumerate(packages):
        if package.served == "missing":
            continue
        if package.served == "unavailable":
            registry.status_override[_metadata_path(package)] = UNAVAILABLE_STATUS
            continue
        if package.ecosystem == "pypi":
            extra = {"data/notes.py": f"NOTES = {number}\n"}
            registry.add_pypi(package.name, pypi_sdist(package.name, package.version, extra))
        else:
            # Every other npm package has an install hook, so its dynamic phase runs it.
            scripts = {"postinstall": "node setup.js"} if number % 4 == 1 else None
            extra = {"setup.js": "console.log('configured');\n"}
            registry.add_npm(
                package.name,
                package.version,
                npm_tarball(package.name, package.version, extra, scripts=scripts),
            )


def _metadata_path(package: RealPackage) -> str:
    if package.ecosystem == "pypi":
        return f"/simple/{package.name}/"
    return f"/npm/{package.name}/{package.version}"
