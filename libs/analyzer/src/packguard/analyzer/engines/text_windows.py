"""A text file read as windows of whole lines, so that a file of any size is scanned in
bounded memory rather than skipped.

Windows end after a newline; consecutive windows share up to ``OVERLAP_CHARS`` of whole
lines, so a match that spans a few lines is not lost at a boundary (a reader drops the
repeats by line number). A line longer than a window is cut where the window ends.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

WINDOW_CHARS = 4 << 20
OVERLAP_CHARS = 4096


@dataclass(frozen=True)
class Window:
    first_line: int
    """The number (from 1) of the window's first line in the file."""
    text: str


def text_windows(
    path: Path, window: int = WINDOW_CHARS, overlap: int = OVERLAP_CHARS
) -> Iterator[Window]:
    """The file as UTF-8 (invalid bytes replaced), a window at a time; a file no longer
    than ``window`` is one window."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    first_line = 1
    repeated = 0  # leading characters of ``pending`` a window already held
    emitted = False
    with path.open("rb") as handle:
        while chunk := handle.read(window):
            pending += decoder.decode(chunk)
            while len(pending) > window:
                cut = pending.rfind("\n", 0, window) + 1 or window
                yield Window(first_line, pending[:cut])
                emitted = True
                restart = _overlap_start(pending, cut, overlap)
                first_line += pending.count("\n", 0, restart)
                pending = pending[restart:]
                repeated = cut - restart
    pending += decoder.decode(b"", final=True)
    if len(pending) > repeated or not emitted:
        yield Window(first_line, pending)


def _overlap_start(text: str, cut: int, overlap: int) -> int:
    """Where the next window starts: the first line beginning within ``overlap`` before
    ``cut``, or ``cut`` (a short window, or one long line, repeats nothing)."""
    if cut <= 2 * overlap:
        return cut
    newline = text.find("\n", cut - overlap - 1, cut - 1)
    return newline + 1 if newline >= 0 else cut
