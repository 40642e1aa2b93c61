"""Host name, user info or network interfaces sent to a hard-coded place (recon)."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from packguard.analyzer.engines.js_flow import JsModule, JsPackage, is_host_info, leaks


def nodes(module: JsModule, package: JsPackage) -> Iterator[Node]:
    return leaks(module, package, "host-info", is_host_info)
