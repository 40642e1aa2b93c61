"""Content digests of source trees: what decides whether an image or a service is stale.

The digest covers each file's path (relative to the repository) and bytes, never
timestamps, so a fresh checkout of the same commit yields the same digest.
"""

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

# Tool caches and bytecode change without any source change.
IGNORED_SUFFIXES = (".pyc", ".pyo")


def digest_entries(entries: Iterable[tuple[str, bytes]]) -> str:
    """Hex sha256 over (path, content) pairs, independent of their order."""
    digest = hashlib.sha256()
    for path, content in sorted(entries):
        name = path.encode()
        # Length prefixes: no two different file sets can produce the same byte stream.
        digest.update(len(name).to_bytes(8, "big") + name)
        digest.update(len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


def tree_digest(root: Path, paths: Sequence[str]) -> str:
    """Digest of the files at or under each of `paths` (relative to `root`); missing ones count
    as empty, so adding one later changes the digest."""
    return digest_entries(
        (file.relative_to(root).as_posix(), file.read_bytes())
        for path in paths
        for file in source_files(root / path)
    )


def source_files(path: Path) -> Iterator[Path]:
    """`path` itself if a file, else the files under it, skipping caches and dot-entries."""
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        return
    for entry in sorted(path.iterdir()):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from source_files(entry)
        elif entry.is_file() and not entry.name.endswith(IGNORED_SUFFIXES):
            yield entry
