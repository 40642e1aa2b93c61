"""A long base64, hex or random-looking string literal in Python code."""

from __future__ import annotations

from collections.abc import Iterator

from packguard.analyzer.engines.entropy import is_encoded_blob
from packguard.analyzer.engines.python_facts import PyModule


def lines(module: PyModule) -> Iterator[int]:
    for line, text in module.facts.strings:
        if is_encoded_blob(text):
            yield line
