"""Errors the analyzer raises for input it refuses.

::

    AnalyzerError
    └── ArchiveRejected                      the artifact is refused (exit EXIT_REJECTED)
        ├── UnsupportedArchive               archive-malformed: not a format we open
        ├── MalformedArchive                 archive-malformed: corrupt or truncated
        ├── UnsafeEntry                      archive-unsafe-entry: a member aims outside the tree
        │   ├── AbsolutePath
        │   ├── PathTraversal
        │   ├── BadFilename                  undecodable, control characters, backslashes
        │   ├── LinkEscape                   link target outside the tree, or a path through a link
        │   ├── SpecialFile                  device, fifo, socket, sparse file
        │   ├── DuplicateEntry               the same path twice, or a file where a dir is
        │   └── InconsistentEntry            the archive describes a member two ways
        │       ├── DeclaredSizeMismatch     inflates past its declared size (lying header)
        │       └── OverlappingEntries       several entries share compressed data
        └── ResourceLimit                    archive-resource-limit: a hard limit was hit
            ├── TooManyFiles
            ├── ArchiveTooLarge              total or per-file uncompressed bytes
            ├── CompressionRatioExceeded
            └── PathTooLong                  depth, path or segment length

Each rejection carries a snake_case ``code`` (written to ``report.error``) and the
``rule_id`` of the finding that records it.
"""

from __future__ import annotations

from typing import ClassVar

_MAX_SHOWN_NAME = 200


def printable_name(raw: str) -> str:
    """An archive member name made safe to show: escapes, no surrogates, capped."""
    text = raw.encode("utf-8", "backslashreplace").decode("utf-8")
    shown = "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)
    return shown[:_MAX_SHOWN_NAME]


class AnalyzerError(Exception):
    """Base of everything the analyzer raises on purpose."""


class ArchiveRejected(AnalyzerError):
    code: ClassVar[str] = "archive_rejected"
    rule_id: ClassVar[str] = "archive-malformed"

    def __init__(self, detail: str, member: str | None = None) -> None:
        self.detail = detail
        self.member = printable_name(member) if member is not None else None
        super().__init__(f"{detail}: {self.member!r}" if self.member is not None else detail)


class UnsupportedArchive(ArchiveRejected):
    code = "unsupported_archive"


class MalformedArchive(ArchiveRejected):
    code = "malformed_archive"


class UnsafeEntry(ArchiveRejected):
    code = "unsafe_entry"
    rule_id = "archive-unsafe-entry"


class AbsolutePath(UnsafeEntry):
    code = "absolute_path"


class PathTraversal(UnsafeEntry):
    code = "path_traversal"


class BadFilename(UnsafeEntry):
    code = "bad_filename"


class LinkEscape(UnsafeEntry):
    code = "link_escape"


class SpecialFile(UnsafeEntry):
    code = "special_file"


class DuplicateEntry(UnsafeEntry):
    code = "duplicate_entry"


class InconsistentEntry(UnsafeEntry):
    code = "inconsistent_entry"


class DeclaredSizeMismatch(InconsistentEntry):
    code = "declared_size_mismatch"


class OverlappingEntries(InconsistentEntry):
    code = "overlapping_entries"


class ResourceLimit(ArchiveRejected):
    code = "resource_limit"
    rule_id = "archive-resource-limit"


class TooManyFiles(ResourceLimit):
    code = "too_many_files"


class ArchiveTooLarge(ResourceLimit):
    code = "archive_too_large"


class CompressionRatioExceeded(ResourceLimit):
    code = "compression_ratio_exceeded"


class PathTooLong(ResourceLimit):
    code = "path_too_long"
