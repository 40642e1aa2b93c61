from pathlib import Path

import pytest

from packguard.devstack.apt_sources import (
    AptSource,
    choose_mirror,
    debian_mirror,
    parse_deb822_sources,
    parse_one_line_sources,
    read_apt_sources,
)
from packguard.devstack.errors import SetupError

MIRROR = "http://mirror.example.invalid/debian"
SECURITY = "http://mirror.example.invalid/debian-security"

DEB822 = f"""\
Types: deb
# http://snapshot.example.invalid/archive/debian/20250520T000000Z
URIs: {MIRROR}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: {SECURITY}
Suites: bookworm-security
Components: main
"""


def test_parse_deb822_sources_two_stanzas_returns_uris_and_suites() -> None:
    assert parse_deb822_sources(DEB822) == [
        AptSource(MIRROR, ("bookworm", "bookworm-updates")),
        AptSource(SECURITY, ("bookworm-security",)),
    ]


def test_parse_deb822_sources_disabled_or_src_only_is_skipped() -> None:
    text = f"Types: deb-src\nURIs: {MIRROR}\nSuites: bookworm\n\n"
    text += f"Enabled: no\nTypes: deb\nURIs: {MIRROR}\nSuites: bookworm\n"
    assert parse_deb822_sources(text) == []


def test_parse_deb822_sources_continuation_lines_are_joined() -> None:
    text = f"Types: deb\nURIs:\n {MIRROR}\n {MIRROR}2\nSuites: bookworm\n"
    assert [s.uri for s in parse_deb822_sources(text)] == [MIRROR, f"{MIRROR}2"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"deb {MIRROR} bookworm main", [AptSource(MIRROR, ("bookworm",))]),
        (
            f"deb [arch=amd64 signed-by=/k.gpg] {MIRROR} bookworm main # note",
            [AptSource(MIRROR, ("bookworm",))],
        ),
        (f"deb-src {MIRROR} bookworm main", []),
        (f"# deb {MIRROR} bookworm main", []),
        ("deb", []),
    ],
)
def test_parse_one_line_sources_line_forms_parse_as_expected(
    line: str, expected: list[AptSource]
) -> None:
    assert parse_one_line_sources(line) == expected


def test_choose_mirror_exact_suite_wins_over_earlier_entries() -> None:
    sources = [AptSource(SECURITY, ("bookworm-security",)), AptSource(MIRROR, ("bookworm",))]
    assert choose_mirror(sources, "bookworm") == MIRROR


def test_choose_mirror_other_release_host_uses_same_archive() -> None:
    sources = [AptSource(SECURITY, ("trixie-security",)), AptSource(MIRROR + "/", ("trixie",))]
    assert choose_mirror(sources, "bookworm") == MIRROR


def test_choose_mirror_only_security_archive_returns_none() -> None:
    assert choose_mirror([AptSource(SECURITY, ("bookworm-security",))], "bookworm") is None


def test_choose_mirror_apt_only_transport_is_skipped() -> None:
    sources = [
        AptSource("mirror+file:/etc/apt/mirrors.txt", ("bookworm",)),
        AptSource(MIRROR, ("bookworm",)),
    ]
    assert choose_mirror(sources, "bookworm") == MIRROR


def test_read_apt_sources_ignores_files_apt_ignores(tmp_path: Path) -> None:
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "debian.sources").write_text(DEB822)
    (parts / "other.list.disabled-by-admin").write_text("deb http://x.invalid/ bookworm main\n")
    (tmp_path / "sources.list").write_text(f"deb {MIRROR}/first bookworm main\n")
    assert [s.uri for s in read_apt_sources(tmp_path)] == [f"{MIRROR}/first", MIRROR, SECURITY]


def test_debian_mirror_env_override_wins(tmp_path: Path) -> None:
    environ = {"PACKGUARD_DEBIAN_MIRROR": "http://override.invalid/debian/"}
    assert debian_mirror("bookworm", tmp_path, environ) == "http://override.invalid/debian"


def test_debian_mirror_no_sources_raises_setup_error(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="PACKGUARD_DEBIAN_MIRROR"):
        debian_mirror("bookworm", tmp_path, {})
