"""A socket wired to a shell: connect, then dup2 onto stdio or a shell fed by the socket."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from packguard.analyzer.engines.python_facts import PyModule, has_string
from packguard.analyzer.engines.python_flow import names_pattern

_CONNECT = names_pattern("*.connect", "socket.create_connection")
_DUP = names_pattern("os.dup2")
_SHELL = names_pattern(
    "pty.spawn", "subprocess.*", "os.exec*", "os.spawn*", "os.system", "os.popen"
)
_SHELL_LINE = re.compile(r"/dev/(tcp|udp)/|\bnc(at)?\b.*\s-[ec]\s|\bbash\s+-i\b|\bsh\s+-i\b")
_FILENO = names_pattern("*.fileno")


def lines(module: PyModule) -> Iterator[int]:
    facts = module.facts
    named = [(site, site.name) for site in facts.calls if site.name is not None]
    shells = [site for site, name in named if _SHELL.match(name)]
    for site in shells:
        if has_string(site.node, _SHELL_LINE, facts, scope=site.scope):
            yield site.node.lineno
    if not any(_CONNECT.match(name) for _, name in named):
        return
    dups = [site for site, name in named if _DUP.match(name)]
    if dups and shells:
        yield from (site.node.lineno for site in [*dups, *shells])
    for site in shells:
        if any(_fed_by_socket(keyword) for keyword in site.node.keywords):
            yield site.node.lineno


def _fed_by_socket(keyword: ast.keyword) -> bool:
    if keyword.arg not in ("stdin", "stdout", "stderr"):
        return False
    value = keyword.value
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and _FILENO.match(f"*.{value.func.attr}") is not None
    )
