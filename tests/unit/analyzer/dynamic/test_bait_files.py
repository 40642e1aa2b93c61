"""Bait: inert fake credentials, planted deterministically, recognised when sent."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

from packguard.analyzer.dynamic.bait import bait_for, plant_bait


def test_plant_writes_private_files_whose_values_are_the_tokens(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bait = plant_bait(home, "seed")
    assert bait == bait_for(home, "seed")
    credentials = (home / ".aws" / "credentials").read_text()
    key_id = bait.environment["AWS_ACCESS_KEY_ID"]
    assert key_id.startswith("AKIA") and key_id.endswith("EXAMPLE") and len(key_id) == 20
    assert key_id in credentials and key_id in bait.tokens
    assert bait.environment["NPM_TOKEN"] in (home / ".npmrc").read_text()
    for path in map(Path, bait.files):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / ".ssh").stat().st_mode) == 0o700
    assert all(len(token) >= 16 for token in bait.tokens)


def test_same_seed_same_values_other_seed_other_values(tmp_path: Path) -> None:
    assert bait_for(tmp_path, "a").tokens == bait_for(tmp_path, "a").tokens
    assert set(bait_for(tmp_path, "a").tokens).isdisjoint(bait_for(tmp_path, "b").tokens)


def test_nothing_names_a_real_host(tmp_path: Path) -> None:
    home = tmp_path / "home"
    plant_bait(home, "seed")
    text = (home / ".npmrc").read_text() + (home / ".git-credentials").read_text()
    assert ".example" in text


def test_bait_paths_and_dirs(tmp_path: Path) -> None:
    bait = bait_for(tmp_path, "s")
    assert bait.is_bait(str(tmp_path / ".ssh" / "id_rsa"))
    assert not bait.is_bait(str(tmp_path / ".ssh"))
    assert bait.is_bait_dir(str(tmp_path / ".ssh"))
    assert not bait.is_bait_dir(str(tmp_path / ".config"))


def test_tokens_are_found_verbatim_lowercased_hex_base64_and_percent_encoded(
    tmp_path: Path,
) -> None:
    bait = bait_for(tmp_path, "s")
    key = bait.environment["AWS_ACCESS_KEY_ID"]
    token = next(t for t in bait.tokens if "+" in t or "/" in t)
    quoted = token.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    for sent in (
        f"GET /?k={key}".encode(),
        f"{key.lower()}.exfil.invalid".encode(),
        key.encode().hex().encode(),
        base64.b64encode(f"{key}:x".encode()),
        quoted.encode(),
    ):
        assert bait.tokens_in(sent), sent
    assert bait.tokens_in(b"GET /index.html HTTP/1.1") == []
