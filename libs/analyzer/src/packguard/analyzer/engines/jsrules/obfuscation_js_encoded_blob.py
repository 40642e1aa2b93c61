"""A long base64, hex or random-looking string literal in JavaScript."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from packguard.analyzer.engines.entropy import is_encoded_blob
from packguard.analyzer.engines.js_flow import JsModule, JsPackage


def nodes(module: JsModule, package: JsPackage) -> Iterator[Node]:
    return (s.node for s in module.facts.strings if is_encoded_blob(s.value))
