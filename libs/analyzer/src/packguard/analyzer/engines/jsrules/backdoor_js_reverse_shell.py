"""A socket wired to a shell: a connection and a spawned shell whose streams it pipes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from packguard.analyzer.engines.js_flow import (
    JsModule,
    JsPackage,
    call_node_strings,
    names_pattern,
)

_CONNECT = names_pattern(
    "net.connect", "net.createConnection", "net.Socket", "tls.connect", "*.connect"
)
_SPAWN = names_pattern("child_process.*")
_PIPE = names_pattern("*.pipe", "*.pipe")
_SHELL = re.compile(r"^(/bin/)?(ba|z|da)?sh$|^cmd(\.exe)?$|^powershell(\.exe)?$", re.I)
_SHELL_LINE = re.compile(r"/dev/(tcp|udp)/|\bnc(at)?\b.*\s-[ec]\s|\b(ba)?sh\s+-i\b")


def nodes(module: JsModule, package: JsPackage) -> Iterator[Node]:
    facts = module.facts
    spawns = [c for c in facts.calls if c.name is not None and _SPAWN.match(c.name)]
    for call in spawns:
        if call_node_strings(facts, call, _SHELL_LINE):
            yield call.node
    if not any(c.name is not None and _CONNECT.match(c.name) for c in facts.calls):
        return
    if not any(c.name is not None and _PIPE.match(c.name) for c in facts.calls):
        return
    for call in spawns:
        if call_node_strings(facts, call, _SHELL):
            yield call.node
