"""How random a string looks: Shannon entropy and encoded-blob shapes.

Shared by the Python and JavaScript blob rules; thresholds sit here so both languages
judge a literal the same way.
"""

from __future__ import annotations

import math
import re
from collections import Counter

MIN_BLOB_CHARS = 512
# Bits per character: English prose ~4.2, source code ~4.5-5, base64 ~6, random bytes ~8.
MIN_BLOB_ENTROPY = 5.2
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{64,}={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}|\\x[0-9a-fA-F]{2}){128,}")
_WHITESPACE = re.compile(r"\s+")
# Encoded bytes mix cases and digits; a long identifier or word run does not.
_MIXED = re.compile(r"(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])", re.S)
# Data with a legitimate reason to be a long encoded literal.
_KNOWN_DATA = re.compile(r"-----BEGIN [A-Z ]+-----|^data:(image|font|application/font)", re.M)


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    size = len(text)
    return -sum(count / size * math.log2(count / size) for count in counts.values())


def is_encoded_blob(text: str) -> bool:
    """A long literal that is base64/hex, or looks random, and is not known data
    (PEM certificates, data: URIs of images and fonts)."""
    if len(text) < MIN_BLOB_CHARS or _KNOWN_DATA.search(text[:256]):
        return False
    if text.count(" ") > len(text) // 100:
        return False  # prose and code have spaces; encoded data (maybe wrapped) has none
    compact = _WHITESPACE.sub("", text)
    if len(compact) < MIN_BLOB_CHARS:
        return False
    if _HEX.fullmatch(compact):
        return True
    if _BASE64.fullmatch(compact) and _MIXED.search(compact[:4096]):
        return True
    return shannon_entropy(compact[:8192]) >= MIN_BLOB_ENTROPY
