"""What ``packguard scan TARGET`` names (pure): a purl, or a local archive and its package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from packguard.common.errors import InvalidInput, UnsupportedEcosystem
from packguard.common.filenames import detect_ecosystem, package_from_filename
from packguard.common.purl import Ecosystem, PackageRef, parse_purl

PURL_PREFIX = "pkg:"


@dataclass(frozen=True, slots=True)
class LocalTarget:
    path: PurePath
    package: PackageRef


ScanTarget = PackageRef | LocalTarget


def is_purl(target: str) -> bool:
    return target.startswith(PURL_PREFIX)


def resolve_target(target: str, ecosystem: Ecosystem | None) -> ScanTarget:
    """A purl becomes its PackageRef; anything else is a local archive path.

    ``ecosystem`` overrides detection for a file and must agree with a purl.
    """
    if is_purl(target):
        package = parse_purl(target)
        if ecosystem is not None and ecosystem is not package.ecosystem:
            raise InvalidInput(
                f"--ecosystem {ecosystem.value} contradicts the purl's {package.ecosystem.value}"
            )
        return package
    path = PurePath(target)
    chosen = ecosystem or detect_ecosystem(path.name)
    if chosen is None:
        raise UnsupportedEcosystem(
            f"cannot tell the ecosystem of {path.name!r} from its name: pass --ecosystem"
        )
    return LocalTarget(path=path, package=package_from_filename(path.name, chosen))
