"""Paths an archive carries more than once, compared before anything is written.

The listing pass sees a repeated path only when its second entry arrives, after the first
entry's bytes have streamed past; so an archive with repeats gets one more pass that
hashes every copy of those paths, and any difference refuses it before extraction.
Archives without repeats (nearly all) never pay for this pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator

from packguard.analyzer.archive.members import (
    ExtractLimits,
    RawEntry,
    guarded,
    normalize_member_path,
)
from packguard.analyzer.errors import DuplicateEntry, MalformedArchive


def check_repeats_identical(
    entries: Iterator[RawEntry], repeats: Collection[str], limits: ExtractLimits
) -> None:
    """Raises ``DuplicateEntry`` unless every copy of each path in ``repeats`` has the same
    bytes. ``entries`` carry data and were all admitted by ``MemberChecker`` already, so
    what is read here is bounded by the limits it enforced."""
    digests: dict[str, bytes] = {}
    for raw in entries:
        if raw.kind != "file":
            continue
        path = normalize_member_path(raw.name, limits)
        if path not in repeats:
            continue
        digest = _digest(raw)
        if digests.setdefault(path, digest) != digest:
            raise DuplicateEntry("path appears twice with different content", raw.name)


def _digest(raw: RawEntry) -> bytes:
    if raw.open_data is None:
        raise MalformedArchive("file entry without data", raw.name)
    digest = hashlib.sha256()
    for chunk in guarded(raw.open_data()):
        digest.update(chunk)
    return digest.digest()
