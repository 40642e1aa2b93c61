"""Where sensitive data comes from and where it goes, in JavaScript: sources, sinks, flow.

Like ``python_flow``: name-based and flow-insensitive. A sink also counts as fed by a
source when it sits inside the source call's callback (``fs.readFile(p, (e, d) =>
https.request(...).end(d))``). Functions returning tainted values are sources across the
package's files.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from packguard.analyzer.engines.js_facts import JsCall, JsFacts
from packguard.analyzer.engines.sensitive import DESTINATION, SECRET_STRING

_ROUNDS = 8


def names_pattern(*globs: str) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(glob) for glob in globs))


@dataclass
class JsModule:
    path: str
    member_path: str
    facts: JsFacts


@dataclass
class JsPackage:
    modules: list[JsModule]
    install_scripts: frozenset[str] = frozenset()
    """Member paths of the files npm lifecycle scripts run (``node scripts/x.js``)."""
    memo: dict[str, frozenset[str]] = field(default_factory=dict)


_FILE_READS = names_pattern(
    "fs.readFile*", "fs.promises.readFile", "fs/promises.readFile", "fs.createReadStream",
    "fs.readdir*", "fs.copyFile*", "fs.cp*", "*.readFile*",
)  # fmt: skip
HOST_INFO = names_pattern(
    "os.hostname", "os.userInfo", "os.networkInterfaces", "os.homedir", "os.tmpdir"
)
NETWORK_SINKS = names_pattern(
    "http.request", "http.get", "https.request", "https.get", "http2.connect", "fetch",
    "node-fetch", "axios", "axios.*", "got", "got.*", "request", "request.*", "needle*",
    "dns.lookup", "dns.resolve*", "dns.promises.*", "dns/promises.*", "net.connect",
    "net.createConnection", "tls.connect", "*.post", "*.put", "*.write", "*.end",
    "*.send", "*.connect", "XMLHttpRequest", "WebSocket", "ws",
)  # fmt: skip
_STREAM_SENDS = names_pattern("*.write", "*.end", "*.send")
_REQUESTS = names_pattern(
    "http.request", "https.request", "http.get", "https.get", "net.connect",
    "net.createConnection", "tls.connect", "*.connect", "*.open", "net.Socket", "dgram.*",
)  # fmt: skip

IsSource = Callable[[JsCall, "SourceContext"], bool]


@dataclass(frozen=True)
class SourceContext:
    facts: JsFacts
    secret_names: frozenset[str]
    env_dump: re.Pattern[bytes]
    functions: frozenset[str]


def names_holding(facts: JsFacts, strings: re.Pattern[str]) -> frozenset[str]:
    key = f"holding:{strings.pattern}"
    if key not in facts.memo:
        facts.memo[key] = _names_holding(facts, strings)
    return facts.memo[key]


def _names_holding(facts: JsFacts, strings: re.Pattern[str]) -> frozenset[str]:
    holding: set[str] = set()
    for _ in range(_ROUNDS):
        grown = False
        for names, value in facts.assignments:
            if names <= holding:
                continue
            if any(strings.search(s.value) for s in facts.strings_within(value)) or (
                holding and facts.identifiers_in(value) & holding
            ):
                holding |= names
                grown = True
        if not grown:
            break
    return frozenset(holding)


def has_string(
    facts: JsFacts, node: Node | None, strings: re.Pattern[str], holding: frozenset[str]
) -> bool:
    if node is None:
        return False
    if any(strings.search(s.value) for s in facts.strings_within(node)):
        return True
    return bool(holding and facts.identifiers_in(node) & holding)


def call_node_strings(facts: JsFacts, call: JsCall, strings: re.Pattern[str]) -> bool:
    """Whether the call (callee and arguments) holds a matching string, directly or
    through a name."""
    return has_string(facts, call.node, strings, names_holding(facts, strings))


def _env_dump_pattern(facts: JsFacts) -> re.Pattern[bytes]:
    aliases = [name for name, target in facts.aliases.items() if target == "process.env"]
    names = "|".join(["process\\.env", *map(re.escape, aliases)])
    # The environment as a whole: not followed by ``.NAME`` or ``[key]``.
    return re.compile(rf"(?<![\w$.])(?:{names})(?![\w$]|\s*(?:\?\.|\.|\[))".encode())


def is_secret_read(call: JsCall, context: SourceContext) -> bool:
    if call.name is None or not _FILE_READS.match(call.name):
        return False
    return has_string(context.facts, call.args, SECRET_STRING, context.secret_names)


def is_host_info(call: JsCall, context: SourceContext) -> bool:
    return call.name is not None and HOST_INFO.match(call.name) is not None


def _derives(node: Node, is_source: IsSource, context: SourceContext, tainted: set[str]) -> bool:
    facts = context.facts
    if tainted and facts.identifiers_in(node) & tainted:
        return True
    if is_source is is_secret_read and context.env_dump.search(
        facts.source[node.start_byte : node.end_byte]
    ):
        return True
    for call in facts.calls_within(node):
        if is_source(call, context):
            return True
        if call.name and is_package_call(call.name, context.functions):
            return True
    return False


def is_package_call(name: str, functions: frozenset[str]) -> bool:
    """``grab()`` or ``./collect.grab()`` (a relative require) for a package function
    ``grab``: a bare last name would match every ``.get()`` and ``.split()``."""
    head, _, last = name.rpartition(".")
    return last in functions and (not head or head.startswith("."))


def _tainted(is_source: IsSource, context: SourceContext) -> set[str]:
    tainted: set[str] = set()
    for _ in range(_ROUNDS):
        grown = False
        for names, value in context.facts.assignments:
            if not names <= tainted and _derives(value, is_source, context, tainted):
                tainted |= names
                grown = True
        if not grown:
            break
    return tainted


def _context(module: JsModule, functions: frozenset[str]) -> SourceContext:
    facts = module.facts
    return SourceContext(
        facts, names_holding(facts, SECRET_STRING), _env_dump_pattern(facts), functions
    )


def _package_functions(package: JsPackage, key: str, is_source: IsSource) -> frozenset[str]:
    if key not in package.memo:
        functions: frozenset[str] = frozenset()
        for _ in range(2):
            found: set[str] = set()
            for module in package.modules:
                context = _context(module, functions)
                tainted = _tainted(is_source, context)
                found |= {
                    name
                    for name, value in module.facts.returns
                    if _derives(value, is_source, context, tainted)
                }
            functions = frozenset(found)
        package.memo[key] = functions
    return package.memo[key]


def has_destination(facts: JsFacts, call: JsCall) -> bool:
    holding = names_holding(facts, DESTINATION)
    if has_string(facts, call.node, DESTINATION, holding):
        return True
    if call.name is None or not _STREAM_SENDS.match(call.name):
        return False
    return any(
        other.name is not None
        and _REQUESTS.match(other.name)
        and has_string(facts, other.node, DESTINATION, holding)
        for other in facts.calls
    )


def leaks(module: JsModule, package: JsPackage, key: str, is_source: IsSource) -> Iterator[Node]:
    """Network sinks with a hard-coded destination fed by ``is_source``."""
    facts = module.facts
    sinks = [c for c in facts.calls if c.name is not None and NETWORK_SINKS.match(c.name)]
    if not sinks:
        return
    functions = _package_functions(package, key, is_source)
    context = _context(module, functions)
    tainted = _tainted(is_source, context)
    sources = [call for call in facts.calls if is_source(call, context)]
    for call in sinks:
        fed = call.args is not None and _derives(call.args, is_source, context, tainted)
        fed = fed or any(_inside(call.node, source.args) for source in sources)
        if fed and has_destination(facts, call):
            yield call.node


def _inside(node: Node, outer: Node | None) -> bool:
    return outer is not None and outer.start_byte <= node.start_byte < outer.end_byte
