"""Credential files, token stores or all of ``process.env`` sent to a hard-coded place."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from packguard.analyzer.engines.js_flow import JsModule, JsPackage, is_secret_read, leaks


def nodes(module: JsModule, package: JsPackage) -> Iterator[Node]:
    return leaks(module, package, "secrets", is_secret_read)
