"""API key text: format, hash and comparison."""

from __future__ import annotations

from uuid import uuid4

import pytest

from packguard.gateway.credentials import hash_key, is_key_match, key_id_of, new_key_text


def test_new_key_text_carries_its_id() -> None:
    key_id = uuid4()

    text = new_key_text(key_id)

    assert text.startswith(f"pgk_{key_id.hex}_")
    assert key_id_of(text) == key_id


def test_new_key_text_secrets_differ() -> None:
    key_id = uuid4()

    assert new_key_text(key_id) != new_key_text(key_id)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "pgk_",
        "pgk_nothex_secretsecretsecretsecretsecretsecret",
        f"pgk_{uuid4().hex}_short",
        f"xyz_{uuid4().hex}_{'a' * 43}",
        f"pgk_{uuid4().hex}_{'a' * 43} ",
        f"pgk_{uuid4().hex.upper()}_{'a' * 43}",
        f"pgk_{uuid4().hex}_{'a' * 42}/",
    ],
)
def test_key_id_of_non_key_is_none(text: str) -> None:
    assert key_id_of(text) is None


def test_hash_key_is_sha256_hex() -> None:
    digest = hash_key("pgk_x")

    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == hash_key("pgk_x") != hash_key("pgk_y")


def test_is_key_match_accepts_only_the_stored_key() -> None:
    text = new_key_text(uuid4())
    stored = hash_key(text)

    assert is_key_match(text, stored)
    assert not is_key_match(text + "x", stored)
    assert not is_key_match(text, hash_key("other"))


def test_is_key_match_without_stored_hash_is_false() -> None:
    assert not is_key_match(new_key_text(uuid4()), None)
