"""A file run by an npm install script is minified or packed onto very long lines.

Bundles ship minified for browsers; the script npm runs at install has no such reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from packguard.analyzer.engines.js_flow import JsModule, JsPackage

LONG_LINE_CHARS = 1000


def nodes(module: JsModule, package: JsPackage) -> Iterator[Node]:
    if module.member_path not in package.install_scripts:
        return
    facts = module.facts
    offset = 0
    for line in facts.source.split(b"\n"):
        if len(line) >= LONG_LINE_CHARS:
            node = facts.calls[0].node if facts.calls else None
            found = next((c.node for c in facts.calls if c.node.start_byte >= offset), node)
            if found is not None:
                yield found
            return
        offset += len(line) + 1
