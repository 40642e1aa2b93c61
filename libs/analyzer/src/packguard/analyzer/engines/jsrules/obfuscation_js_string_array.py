"""javascript-obfuscator's signature: ``_0x`` names and a big array of strings they index."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from packguard.analyzer.engines.js_flow import JsModule, JsPackage

_OBFUSCATED_NAME = re.compile(rb"\b_0x[0-9a-f]{4,6}\b")
MIN_DISTINCT_NAMES = 5
MIN_ARRAY_STRINGS = 5


def nodes(module: JsModule, package: JsPackage) -> Iterator[Node]:
    facts = module.facts
    if len(set(_OBFUSCATED_NAME.findall(facts.source))) < MIN_DISTINCT_NAMES:
        return
    for names, value in facts.assignments:
        bare = (name.split(":", 1)[1] for name in names)
        if value.type != "array" or not any(name.startswith("_0x") for name in bare):
            continue
        strings = [child for child in value.named_children if child.type == "string"]
        if len(strings) >= MIN_ARRAY_STRINGS:
            yield value
            return
