"""API key text: format, hash and constant-time comparison (pure).

A key reads ``pgk_<key id, 32 hex>_<secret>``. The id makes the lookup a primary-key
read; only the sha256 of the whole key is stored, and it is compared with
``hmac.compare_digest`` so the answer takes the same time whatever the mismatch.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from uuid import UUID

KEY_PREFIX = "pgk"
_SECRET_BYTES = 32
_KEY_PATTERN = re.compile(rf"^{KEY_PREFIX}_([0-9a-f]{{32}})_([A-Za-z0-9_-]{{32,128}})$")
# Compared against when the key id is unknown, so unknown ids cost the same as bad secrets.
_DUMMY_HASH = hashlib.sha256(b"packguard-no-such-key").hexdigest()


def new_key_text(key_id: UUID) -> str:
    return f"{KEY_PREFIX}_{key_id.hex}_{secrets.token_urlsafe(_SECRET_BYTES)}"


def key_id_of(text: str) -> UUID | None:
    """The key id carried by ``text``, or None when ``text`` is not a packguard key."""
    match = _KEY_PATTERN.match(text)
    return UUID(hex=match.group(1)) if match else None


def hash_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def is_key_match(text: str, stored_hash: str | None) -> bool:
    """Constant-time check of ``text`` against a stored hash (None: no such key)."""
    expected = stored_hash if stored_hash is not None else _DUMMY_HASH
    matches = hmac.compare_digest(hash_key(text).encode(), expected.encode())
    return matches and stored_hash is not None
