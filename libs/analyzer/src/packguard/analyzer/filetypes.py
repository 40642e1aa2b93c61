"""Coarse file types from magic bytes first, then text heuristics and names.

The type decides which engine reads a file; it is a routing hint, not a verdict, so a
file that lies about its extension is still routed by its content where that is cheap.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

HEAD_BYTES = 8192

_MACHO_MAGICS = (
    b"\xfe\xed\xfa\xce",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",
)
_FAT_MACHO = b"\xca\xfe\xba\xbe"
# Java class files share the fat Mach-O magic; a fat header's arch count is small.
_MAX_FAT_ARCHS = 32
_ARCHIVE_MAGICS = (
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
)
_TAR_MAGIC_OFFSET = 257
_SHEBANG = re.compile(rb"^#![^\n]*\b(python[0-9.]*|node|nodejs)\b")
_BY_SUFFIX = {
    ".py": "python",
    ".pyw": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".json": "json",
}


def sniff_file_type(path: str, head: bytes) -> str:
    """One of python, javascript, json, text, binary-elf, binary-pe, binary-macho,
    archive, other. ``head`` is the first ``HEAD_BYTES`` of the file."""
    binary = _binary_type(head)
    if binary is not None:
        return binary
    if not _is_text(head):
        return "other"
    shebang = _SHEBANG.match(head)
    if shebang is not None:
        return "javascript" if shebang.group(1).startswith(b"node") else "python"
    return _BY_SUFFIX.get(PurePosixPath(path).suffix.lower(), "text")


def _binary_type(head: bytes) -> str | None:
    if head.startswith(b"\x7fELF"):
        return "binary-elf"
    if head.startswith(b"MZ"):
        return "binary-pe"
    if head.startswith(_MACHO_MAGICS):
        return "binary-macho"
    if head.startswith(_FAT_MACHO) and 0 < int.from_bytes(head[4:8], "big") <= _MAX_FAT_ARCHS:
        return "binary-macho"
    if head.startswith(_ARCHIVE_MAGICS):
        return "archive"
    if head[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + 5] == b"ustar":
        return "archive"
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        return error.start >= len(head) - 3 and len(head) == HEAD_BYTES
    return True
