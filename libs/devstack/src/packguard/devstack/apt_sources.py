"""Reading the Debian mirror from apt's own sources, so no mirror host is ever hard-coded."""

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packguard.devstack.errors import SetupError

MIRROR_ENV = "PACKGUARD_DEBIAN_MIRROR"
APT_ETC = Path("/etc/apt")
# Schemes debootstrap can fetch from; apt-only transports (mirror+file, tor+...) are skipped.
_DEBOOTSTRAP_SCHEMES = ("http://", "https://", "ftp://", "file:/")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]


def parse_one_line_sources(text: str) -> list[AptSource]:
    """Entries of a sources.list file (`deb [opts] URI suite comp...`), deb lines only."""
    sources = []
    for raw_line in text.splitlines():
        kind, _, body = raw_line.split("#", 1)[0].strip().partition(" ")
        if kind != "deb":
            continue
        body = body.strip()
        if body.startswith("["):  # options may hold spaces: [arch=amd64 signed-by=/k.gpg]
            body = body.partition("]")[2]
        fields = body.split()
        if len(fields) >= 2:
            sources.append(AptSource(uri=fields[0], suites=(fields[1],)))
    return sources


def parse_deb822_sources(text: str) -> list[AptSource]:
    """Entries of a `.sources` file (deb822 stanzas), enabled `deb` types only."""
    sources: list[AptSource] = []
    for stanza in _deb822_stanzas(text):
        if "deb" not in stanza.get("types", "").split():
            continue
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        suites = tuple(stanza.get("suites", "").split())
        sources.extend(AptSource(uri, suites) for uri in stanza.get("uris", "").split())
    return sources


def choose_mirror(sources: Iterable[AptSource], suite: str) -> str | None:
    """The URI serving `suite`; else one serving any release codename (same archive).

    Suites with a dash (bookworm-security, -updates) live in archives that cannot
    bootstrap a release, so they only count on an exact match.
    """
    usable = [s for s in sources if s.uri.startswith(_DEBOOTSTRAP_SCHEMES)]
    for source in usable:
        if suite in source.suites:
            return source.uri.rstrip("/")
    for source in usable:
        if any("-" not in s and "/" not in s for s in source.suites):
            return source.uri.rstrip("/")
    return None


def debian_mirror(
    suite: str, apt_etc: Path = APT_ETC, environ: Mapping[str, str] = os.environ
) -> str:
    """`$PACKGUARD_DEBIAN_MIRROR`, else the mirror apt on this machine is configured with."""
    override = environ.get(MIRROR_ENV)
    if override:
        return override.rstrip("/")
    mirror = choose_mirror(read_apt_sources(apt_etc), suite)
    if mirror is None:
        raise SetupError(
            f"no Debian mirror for {suite!r} found in {apt_etc}/sources.list(.d); "
            f"set {MIRROR_ENV} to the mirror URL"
        )
    return mirror


def read_apt_sources(apt_etc: Path = APT_ETC) -> list[AptSource]:
    """Every source in apt's reading order; other suffixes are ignored, as apt does."""
    sources: list[AptSource] = []
    main = apt_etc / "sources.list"
    if main.is_file():
        sources.extend(parse_one_line_sources(main.read_text(errors="replace")))
    parts = apt_etc / "sources.list.d"
    for path in sorted(parts.glob("*")) if parts.is_dir() else []:
        if path.suffix == ".list":
            sources.extend(parse_one_line_sources(path.read_text(errors="replace")))
        elif path.suffix == ".sources":
            sources.extend(parse_deb822_sources(path.read_text(errors="replace")))
    return sources


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if current:
                stanzas.append(current)
            current, key = {}, ""
        elif line[0].isspace() and key:
            current[key] += " " + line.strip()  # continuation line
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            current[key] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas
