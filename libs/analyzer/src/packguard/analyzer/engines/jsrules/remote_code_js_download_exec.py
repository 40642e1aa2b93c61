"""Code fetched over the network and run: passed to eval/Function/vm/child_process, or
written to a file that is then executed.

The fetched data reaches the sink through the fetch's callbacks or promise chain (the sink
sits in the same statement), or through names assigned from the fetch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from packguard.analyzer.engines.js_facts import JsCall, JsFacts
from packguard.analyzer.engines.js_flow import JsModule, JsPackage, names_pattern

_FETCHES = names_pattern(
    "http.get", "https.get", "http.request", "https.request", "fetch", "node-fetch",
    "axios", "axios.*", "got", "got.*", "request", "request.*", "needle*",
)  # fmt: skip
_EXECUTES = names_pattern(
    "eval", "Function", "vm.*", "*.runInThisContext", "*.runInNewContext", "*._compile",
    "child_process.exec*", "child_process.spawn*", "child_process.fork",
)  # fmt: skip
_WRITES = names_pattern("fs.writeFile*", "fs.createWriteStream", "fs.promises.writeFile")
_RUNS = names_pattern("child_process.*")
_STATEMENT_PARENTS = ("program", "statement_block", "switch_body", "class_body")
# Unpacking or checking a download is what installers legitimately do with it.
_ARCHIVE_TOOLS = re.compile(r"^\s*(tar|unzip|7z|gunzip|bunzip2|xz|sha\d*sum|gpg|file)\b")


def nodes(module: JsModule, package: JsPackage) -> Iterator[Node]:
    facts = module.facts
    fetches = [c for c in facts.calls if c.name is not None and _FETCHES.match(c.name)]
    if not fetches:
        return
    tainted = _tainted(facts, fetches)
    regions = [_statement(fetch.node) for fetch in fetches]
    written: set[str] = set()
    for call in facts.calls:
        name = call.name or ""
        fed = _fed(facts, call, tainted, regions)
        if _EXECUTES.match(name) and fed and _dynamic_argument(facts, call):
            yield call.node
        elif fed and call.args is not None and _passes_evaluator(facts, call.args):
            yield call.node  # ``.then(eval)``: the evaluator itself is the callback
        elif _WRITES.match(name) and fed and call.args is not None and call.args.named_children:
            written |= facts.identifiers_in(call.args.named_children[0])
            written |= {s.value for s in facts.strings_within(call.args.named_children[0])}
    if not written:
        return
    for call in facts.calls:
        if call.name is None or call.args is None or not _RUNS.match(call.name):
            continue
        if not _unpacks(facts, call.args):
            tokens = facts.identifiers_in(call.args) | {
                s.value for s in facts.strings_within(call.args)
            }
            if tokens & written:
                yield call.node


def _unpacks(facts: JsFacts, args: Node) -> bool:
    first = args.named_children[0] if args.named_children else None
    if first is None or first.type not in ("string", "template_string"):
        return False
    return _ARCHIVE_TOOLS.match(facts.text(first)[1:]) is not None


def _statement(node: Node) -> Node:
    while node.parent is not None and node.parent.type not in _STATEMENT_PARENTS:
        node = node.parent
    return node


def _tainted(facts: JsFacts, fetches: list[JsCall]) -> set[str]:
    starts = {fetch.start for fetch in fetches}
    tainted: set[str] = set()
    for _ in range(8):
        grown = False
        for names, value in facts.assignments:
            if names <= tainted:
                continue
            if any(c.start in starts for c in facts.calls_within(value)) or (
                tainted and facts.identifiers_in(value) & tainted
            ):
                tainted |= names
                grown = True
        if not grown:
            break
    return tainted


def _fed(facts: JsFacts, call: JsCall, tainted: set[str], regions: list[Node]) -> bool:
    if any(r.start_byte <= call.start < r.end_byte for r in regions):
        return True
    return call.args is not None and bool(tainted and facts.identifiers_in(call.args) & tainted)


def _passes_evaluator(facts: JsFacts, args: Node) -> bool:
    return any(
        child.type == "identifier" and facts.text(child) in ("eval", "Function")
        for child in args.named_children
    )


def _dynamic_argument(facts: JsFacts, call: JsCall) -> bool:
    """Not only literals (``eval('1+1')`` runs nothing that was downloaded), and not an
    archive tool unpacking the download."""
    if call.args is None or _unpacks(facts, call.args):
        return False
    return any(child.type not in ("string", "number") for child in call.args.named_children)
