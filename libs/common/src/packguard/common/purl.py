"""Package URLs: parsing, validation and the one normal form used for dedup and keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from packageurl import PackageURL

from packguard.common.errors import InvalidPurl, MissingVersion, UnsupportedEcosystem

MAX_PURL_LENGTH = 512
_PYPI_SEPARATORS = re.compile(r"[-_.]+")
# Conservative: what the registries themselves accept, minus anything path-like.
_SAFE_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~+!-]*$")
_SAFE_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]*$")


class Ecosystem(StrEnum):
    PYPI = "pypi"
    NPM = "npm"


@dataclass(frozen=True, slots=True)
class PackageRef:
    """One exact release of one package."""

    ecosystem: Ecosystem
    name: str
    """Normalized name; npm scoped names include the scope (``@babel/core``)."""
    version: str

    @property
    def purl(self) -> str:
        namespace, _, name = self.name.rpartition("/")
        return str(
            PackageURL(
                type=self.ecosystem.value,
                namespace=namespace or None,
                name=name,
                version=self.version,
            )
        )


def parse_ecosystem(value: str) -> Ecosystem:
    try:
        return Ecosystem(value.lower())
    except ValueError:
        supported = ", ".join(e.value for e in Ecosystem)
        raise UnsupportedEcosystem(
            f"ecosystem {value!r} is not supported (supported: {supported})",
            fields={"ecosystem": value},
        ) from None


def normalize_pypi_name(name: str) -> str:
    """PEP 503 normalization: case-insensitive, runs of ``-_.`` are one ``-``."""
    return _PYPI_SEPARATORS.sub("-", name).lower()


def parse_purl(text: str) -> PackageRef:
    """Parse and normalize ``text``; raise a specific InvalidInput on anything unusable."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidPurl("purl must be a non-empty string", fields={"purl": text})
    if len(text) > MAX_PURL_LENGTH:
        raise InvalidPurl(f"purl is longer than {MAX_PURL_LENGTH} characters")
    try:
        parsed = PackageURL.from_string(text.strip())
    except ValueError as exc:
        raise InvalidPurl(f"not a valid package URL: {exc}", fields={"purl": text}) from None
    ecosystem = parse_ecosystem(parsed.type)
    if not parsed.version:
        raise MissingVersion(
            "purl has no version: submit an exact release such as pkg:pypi/six@1.16.0",
            fields={"purl": text},
        )
    if parsed.qualifiers or parsed.subpath:
        raise InvalidPurl("qualifiers and subpaths are not supported", fields={"purl": text})
    version = parsed.version
    if not _SAFE_VERSION.match(version) or len(version) > 128:
        raise InvalidPurl(f"invalid version {version!r}", fields={"purl": text})
    name = _normalized_name(ecosystem, parsed.namespace, parsed.name, text)
    return PackageRef(ecosystem=ecosystem, name=name, version=version)


def _normalized_name(ecosystem: Ecosystem, namespace: str | None, name: str, text: str) -> str:
    if not _SAFE_COMPONENT.match(name) or len(name) > 214:
        raise InvalidPurl(f"invalid package name {name!r}", fields={"purl": text})
    if ecosystem is Ecosystem.PYPI:
        if namespace:
            raise InvalidPurl("pypi purls have no namespace", fields={"purl": text})
        return normalize_pypi_name(name)
    # npm: names are lowercase by registry rule; a scope is the namespace.
    if namespace:
        scope = namespace if namespace.startswith("@") else f"@{namespace}"
        if not _SAFE_COMPONENT.match(scope[1:]):
            raise InvalidPurl(f"invalid npm scope {namespace!r}", fields={"purl": text})
        return f"{scope.lower()}/{name.lower()}"
    return name.lower()
