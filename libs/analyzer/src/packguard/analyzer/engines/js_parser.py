"""The tree-sitter JavaScript parser, made per scan (no parser lives in a module global)."""

from __future__ import annotations

import time

import tree_sitter_javascript
from tree_sitter import Language, Parser, Point, Tree

# A hostile file must not hold the scan: past this, parsing is abandoned and the file is
# counted as unparsable.
PARSE_TIMEOUT_SECONDS = 5.0
_CHUNK = 1 << 16


class JsParser:
    def __init__(self, timeout_seconds: float = PARSE_TIMEOUT_SECONDS) -> None:
        self.language = Language(tree_sitter_javascript.language())
        self._parser = Parser(self.language)
        self._timeout = timeout_seconds

    def parse(self, source: bytes) -> Tree | None:
        """The syntax tree (with error nodes where the code is broken), or ``None`` when
        parsing took longer than the timeout."""
        deadline = time.monotonic() + self._timeout

        def read(offset: int, _: Point) -> bytes:
            return source[offset : offset + _CHUNK]

        def give_up(_offset: int, _has_error: bool) -> bool:
            return time.monotonic() > deadline

        try:
            return self._parser.parse(read, progress_callback=give_up)
        except ValueError:  # tree-sitter's "Parsing failed" after the callback gave up
            return None
