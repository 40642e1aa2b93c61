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


_SHA256_CHECKSUM = re.compile(r"^sha256:([0-9a-f]{64})$")
_UPLOAD_QUALIFIERS = frozenset({"checksum", "file_name"})
MAX_FILENAME_LENGTH = 255


class Ecosystem(StrEnum):
    PYPI = "pypi"
    NPM = "npm"


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """An artifact a client uploaded instead of naming a registry release.

    It travels in the purl as the standard ``checksum`` and ``file_name`` qualifiers, so
    dedup, caching, the pending sweeper and retries need nothing beyond the purl.
    """

    sha256: str
    filename: str


@dataclass(frozen=True, slots=True)
class PackageRef:
    """One exact release of one package (or one uploaded file claiming to be it)."""

    ecosystem: Ecosystem
    name: str
    """Normalized name; npm scoped names include the scope (``@babel/core``)."""
    version: str
    upload: UploadedFile | None = None
    """Set when the bytes come from an upload rather than the registry."""

    @property
    def purl(self) -> str:
        namespace, _, name = self.name.rpartition("/")
        qualifiers = (
            {"checksum": f"sha256:{self.upload.sha256}", "file_name": self.upload.filename}
            if self.upload
            else None
        )
        return str(
            PackageURL(
                type=self.ecosystem.value,
                namespace=namespace or None,
                name=name,
                version=self.version,
                qualifiers=qualifiers,
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


def parse_purl(text: str, *, allow_upload: bool = False) -> PackageRef:
    """Parse and normalize ``text``; raise a specific InvalidInput on anything unusable.

    Clients name registry releases only; ``allow_upload`` also accepts the qualifiers the
    gateway itself writes for an uploaded file (task purls read back by the services).
    """
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
    if parsed.subpath or (parsed.qualifiers and not allow_upload):
        raise InvalidPurl("qualifiers and subpaths are not supported", fields={"purl": text})
    upload = _uploaded_file(parsed.qualifiers, text) if parsed.qualifiers else None
    version = parsed.version
    if not _SAFE_VERSION.match(version) or len(version) > 128:
        raise InvalidPurl(f"invalid version {version!r}", fields={"purl": text})
    name = _normalized_name(ecosystem, parsed.namespace, parsed.name, text)
    return PackageRef(ecosystem=ecosystem, name=name, version=version, upload=upload)


def is_safe_filename(filename: str) -> bool:
    """A bare file name: no directories, no dot files, nothing a shell or path would mind."""
    return (
        0 < len(filename) <= MAX_FILENAME_LENGTH
        and _SAFE_COMPONENT.match(filename) is not None
        and ".." not in filename
    )


def _uploaded_file(qualifiers: dict[str, str] | str, text: str) -> UploadedFile:
    if not isinstance(qualifiers, dict) or set(qualifiers) != _UPLOAD_QUALIFIERS:
        raise InvalidPurl(
            "only the checksum and file_name qualifiers of an upload are supported",
            fields={"purl": text},
        )
    checksum = _SHA256_CHECKSUM.match(qualifiers["checksum"].lower())
    if checksum is None:
        raise InvalidPurl("checksum must be sha256:<64 hex digits>", fields={"purl": text})
    filename = qualifiers["file_name"]
    if not is_safe_filename(filename):
        raise InvalidPurl(f"invalid file_name {filename!r}", fields={"purl": text})
    return UploadedFile(sha256=checksum.group(1), filename=filename)


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
