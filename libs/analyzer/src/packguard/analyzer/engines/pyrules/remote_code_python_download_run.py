"""A file downloaded and then run: the path written by a download is what a process
start (or ``os.startfile``) is given, in the same function."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

from packguard.analyzer.engines.python_facts import CallSite, PyModule
from packguard.analyzer.engines.python_flow import names_pattern

_DOWNLOADS = names_pattern(
    "urllib.request.urlretrieve", "urllib.urlretrieve", "wget.download", "*.urlretrieve"
)
_FETCHES = names_pattern(
    "requests.*", "httpx.*", "urllib.request.urlopen", "urllib2.urlopen", "*.urlopen"
)
_WRITES = names_pattern("open", "io.open", "*.write_bytes", "*.write_text", "*.open")
_RUNS = names_pattern(
    "subprocess.*", "os.system", "os.popen", "os.startfile", "os.exec*", "os.spawn*"
)
# Unpacking or checking a download is what installers legitimately do with it.
_ARCHIVE_TOOLS = re.compile(r"^\s*(tar|unzip|7z|gunzip|bunzip2|xz|sha\d*sum|gpg|file)\b")


def lines(module: PyModule) -> Iterator[int]:
    by_scope: dict[int, list[CallSite]] = defaultdict(list)
    for site in module.facts.calls:
        if site.name is not None:
            by_scope[site.scope].append(site)
    for sites in by_scope.values():
        written = _downloaded_paths(sites)
        if not written:
            continue
        for site in sites:
            if site.name is None or not _RUNS.match(site.name) or _unpacks(site.node):
                continue
            if _shares_path(_tokens(_arguments(site.node)), written):
                yield site.node.lineno


def _downloaded_paths(sites: list[CallSite]) -> set[str]:
    """Names and literals of files written from the network in this scope."""
    written: set[str] = set()
    fetches = any(site.name is not None and _FETCHES.match(site.name) for site in sites)
    for site in sites:
        name = site.name or ""
        if _DOWNLOADS.match(name):
            written |= _tokens(site.node.args[1:2] + [k.value for k in site.node.keywords])
        elif fetches and _WRITES.match(name) and _opens_for_writing(site.node):
            target = site.node.args[:1] if name in ("open", "io.open") else [site.node.func]
            written |= _tokens(target)
    return written


def _shares_path(used: set[str], written: set[str]) -> bool:
    """A written name, or a written literal path inside a command line (``sh /tmp/x``)."""
    if used & written:
        return True
    literals = [token for token in written if "/" in token or "\\" in token]
    return any(literal in token for literal in literals for token in used)


def _opens_for_writing(call: ast.Call) -> bool:
    modes = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "mode")]
    if isinstance(call.func, ast.Attribute) and call.func.attr.startswith("write_"):
        return True
    return any(isinstance(m, ast.Constant) and "w" in str(m.value) for m in modes)


def _arguments(call: ast.Call) -> list[ast.expr]:
    return [*call.args, *(keyword.value for keyword in call.keywords)]


def _tokens(expressions: Iterable[ast.AST]) -> set[str]:
    tokens = set()
    for expression in expressions:
        nodes = list(ast.walk(expression))
        # ``os`` in ``os.path.join(d, f)`` is a module, not a path being passed around.
        receivers = {id(node.value) for node in nodes if isinstance(node, ast.Attribute)}
        for node in nodes:
            if isinstance(node, ast.Name) and id(node) not in receivers:
                tokens.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
                tokens.add(node.value)
    return tokens


def _unpacks(call: ast.Call) -> bool:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.List | ast.Tuple) and first.elts:
        first = first.elts[0]
    elif isinstance(first, ast.JoinedStr) and first.values:
        first = first.values[0]
    return (
        isinstance(first, ast.Constant)
        and isinstance(first.value, str)
        and _ARCHIVE_TOOLS.match(first.value) is not None
    )
