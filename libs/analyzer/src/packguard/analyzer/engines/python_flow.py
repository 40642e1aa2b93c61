"""Where sensitive data comes from and where it goes, in Python: sources, sinks, flow.

Flow is name-based and flow-insensitive like ``python_facts``: a name is tainted when it
is ever assigned an expression holding a source or a tainted name. Functions whose return
value is tainted become sources themselves, across the package's modules (a payload split
into ``collect.py`` and ``send.py`` is still one flow).
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from packguard.analyzer.engines.python_facts import (
    AssignmentSummary,
    CallSite,
    ModuleFacts,
    PyModule,
    PyPackage,
    call_arguments,
    has_string,
    is_tainted_name,
    names_holding,
    qualified_name,
    spread,
)
from packguard.analyzer.engines.sensitive import DESTINATION, SECRET_STRING


def names_pattern(*globs: str) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(glob) for glob in globs))


_FILE_READS = names_pattern(
    "open", "io.open", "codecs.open", "*.read_text", "*.read_bytes", "*.open", "os.listdir",
    "os.walk", "os.scandir", "glob.glob", "glob.iglob", "shutil.copy*", "shutil.make_archive",
    "*.glob", "*.rglob", "*.iterdir", "sqlite3.connect", "configparser.*.read",
)  # fmt: skip
_ENV_DUMPERS = names_pattern(
    "dict", "str", "repr", "list", "sorted", "json.dumps", "json.dump", "pickle.dumps",
    "base64.*encode", "*.copy", "*.items", "*.keys", "*.values",
)  # fmt: skip
HOST_INFO = names_pattern(
    "socket.gethostname", "socket.getfqdn", "platform.node", "platform.uname", "os.uname",
    "getpass.getuser", "os.getlogin", "os.getcwd", "pwd.getpwuid", "uuid.getnode",
)  # fmt: skip
NETWORK_SINKS = names_pattern(
    "requests.*", "httpx.*", "urllib.request.*", "urllib.urlopen", "urllib2.*",
    "http.client.*", "aiohttp.*", "socket.gethostbyname*", "socket.getaddrinfo",
    "socket.create_connection", "dns.resolver.*", "smtplib.*", "ftplib.*",
    "*.post", "*.put", "*.request", "*.urlopen", "*.send", "*.sendall",
    "*.sendto", "*.sendmail", "*.send_message", "*.storbinary", "*.resolve", "*.query",
)  # fmt: skip
_SOCKET_SENDS = names_pattern("*.send", "*.sendall", "*.sendto", "*.sendmail")
_CONNECTS = names_pattern("*.connect", "socket.create_connection", "smtplib.*", "ftplib.*")

IsSource = Callable[[ast.AST, "SourceContext"], bool]


@dataclass(frozen=True)
class SourceKind:
    """What a leak rule treats as sensitive. ``candidates`` (callee names) and ``env``
    (mentions of os.environ) are cheap tests that let most modules skip the full walk."""

    key: str
    is_source: IsSource
    candidates: re.Pattern[str]
    env: bool


@dataclass(frozen=True)
class SourceContext:
    facts: ModuleFacts
    secret_names: AbstractSet[str]
    """Names holding a secret path (``p = home + "/.npmrc"``)."""
    functions: frozenset[str]
    """Package functions whose return value is tainted (called by their last name)."""
    imported: frozenset[str]
    """Tainted module-level names of other modules, imported relatively here."""
    scope: int = 0
    """The function scope the nodes being judged are read in."""

    def at(self, scope: int) -> SourceContext:
        return replace(self, scope=scope)


def _is_env(node: ast.AST, facts: ModuleFacts) -> bool:
    return isinstance(node, ast.Attribute) and qualified_name(node, facts.aliases) == "os.environ"


def is_env_dump(node: ast.AST, facts: ModuleFacts) -> bool:
    """The whole environment taken at once (``dict(os.environ)``, ``{**os.environ}``),
    unlike reading one variable."""
    if isinstance(node, ast.Call):
        name = qualified_name(node.func, facts.aliases)
        if name is None or not _ENV_DUMPERS.match(name):
            return False
        return any(_is_env(argument, facts) for argument in call_arguments(node))
    if isinstance(node, ast.Dict):
        pairs = zip(node.keys, node.values, strict=True)
        return any(key is None and _is_env(value, facts) for key, value in pairs)
    return isinstance(node, ast.FormattedValue) and _is_env(node.value, facts)


def is_secret_read(node: ast.AST, context: SourceContext) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = qualified_name(node.func, context.facts.aliases)
    if name is None or not _FILE_READS.match(name):
        return False
    return has_string(node, SECRET_STRING, context.facts, context.secret_names, context.scope)


def is_secret_source(node: ast.AST, context: SourceContext) -> bool:
    return is_secret_read(node, context) or is_env_dump(node, context.facts)


def is_host_info(node: ast.AST, context: SourceContext) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = qualified_name(node.func, context.facts.aliases)
    return name is not None and HOST_INFO.match(name) is not None


def _derives(
    expr: ast.AST, is_source: IsSource, context: SourceContext, tainted: AbstractSet[str]
) -> bool:
    facts = context.facts
    for node in ast.walk(expr):
        if tainted and is_tainted_name(node, tainted, facts, context.scope):
            return True
        if (
            isinstance(node, ast.Name)
            and node.id in context.imported
            and facts.key(context.scope, node.id) == f"0:{node.id}"
        ):
            return True
        if isinstance(node, ast.Call) and _calls_tainted_function(node, context):
            return True
        if is_source(node, context):
            return True
    return False


def _calls_tainted_function(call: ast.Call, context: SourceContext) -> bool:
    if not context.functions:
        return False
    name = qualified_name(call.func, context.facts.aliases)
    return name is not None and _is_package_call(name, context.facts, context.functions)


def _is_package_call(name: str, facts: ModuleFacts, functions: frozenset[str]) -> bool:
    """``grab()`` or ``collect.grab()`` (``from . import collect``) for a package
    function ``grab``: a bare last name would match every ``.get()`` and ``.split()``."""
    head, _, last = name.rpartition(".")
    return last in functions and (not head or head in facts.relative_imports)


def _mentions_env(used: AbstractSet[str], facts: ModuleFacts) -> bool:
    names = (key.split(":", 1)[1] for key in used)
    return any(name == "os.environ" or facts.aliases.get(name) == "os.environ" for name in names)


def _may_hold_source(summary: AssignmentSummary, kind: SourceKind, facts: ModuleFacts) -> bool:
    if any(kind.candidates.match(call) for call in summary.calls):
        return True
    return kind.env and _mentions_env(summary.used, facts)


def _has_candidates(module: PyModule, kind: SourceKind) -> bool:
    facts = module.facts
    if any(site.name is not None and kind.candidates.match(site.name) for site in facts.calls):
        return True
    return kind.env and any("environ" in line for line in module.lines)


def _direct_sources(kind: SourceKind, context: SourceContext) -> frozenset[int]:
    """Assignments whose value holds a source itself (each value walked once per kind)."""
    facts = context.facts
    if kind.key not in facts.source_memo:
        facts.source_memo[kind.key] = frozenset(
            index
            for index, summary in enumerate(facts.summaries())
            if _may_hold_source(summary, kind, facts)
            and any(
                kind.is_source(node, context.at(summary.scope)) for node in ast.walk(summary.value)
            )
        )
    return facts.source_memo[kind.key]


def _tainted(kind: SourceKind, context: SourceContext) -> frozenset[str]:
    summaries = context.facts.summaries()
    seeds = set(_direct_sources(kind, context))
    if context.functions or context.imported:
        imported = {f"0:{name}" for name in context.imported}
        seeds.update(
            index
            for index, summary in enumerate(summaries)
            if summary.used & imported
            or any(
                _is_package_call(call, context.facts, context.functions) for call in summary.calls
            )
        )
    return spread(summaries, seeds)


def _context(
    module: PyModule, functions: frozenset[str], exported: frozenset[str]
) -> SourceContext:
    facts = module.facts
    imported = frozenset(facts.relative_imports & exported)
    return SourceContext(facts, names_holding(facts, SECRET_STRING), functions, imported)


def _package_sources(package: PyPackage, kind: SourceKind) -> tuple[frozenset[str], frozenset[str]]:
    """(tainted function names, tainted module-level names) over the whole package."""
    functions_key, names_key = f"{kind.key}:functions", f"{kind.key}:names"
    if functions_key not in package.memo:
        functions: frozenset[str] = frozenset()
        names: frozenset[str] = frozenset()
        for _ in range(2):  # a second pass sees functions that call the first pass's
            found_functions: set[str] = set()
            found_names: set[str] = set()
            for module in package.modules:
                if not (functions or names) and not _has_candidates(module, kind):
                    continue  # nothing here can read a source: skip the walks
                context = _context(module, functions, names)
                tainted = _tainted(kind, context)
                found_names |= {key[2:] for key in tainted if key.startswith("0:")}
                found_functions |= {
                    name
                    for name, value, scope in module.facts.returns
                    if _derives(value, kind.is_source, context.at(scope), tainted)
                }
            if (frozenset(found_functions), frozenset(found_names)) == (functions, names):
                break
            functions, names = frozenset(found_functions), frozenset(found_names)
        package.memo[functions_key], package.memo[names_key] = functions, names
    return package.memo[functions_key], package.memo[names_key]


def has_destination(sink: CallSite, facts: ModuleFacts) -> bool:
    """The call names a hard-coded destination, or (socket sends) the module connects to
    one."""
    holding = names_holding(facts, DESTINATION)
    if has_string(sink.node, DESTINATION, facts, holding, sink.scope):
        return True
    if sink.name is None or not _SOCKET_SENDS.match(sink.name):
        return False
    return any(
        site.name is not None
        and _CONNECTS.match(site.name)
        and has_string(site.node, DESTINATION, facts, holding, site.scope)
        for site in facts.calls
    )


def leaks(module: PyModule, package: PyPackage, kind: SourceKind) -> Iterator[int]:
    """Lines of network sinks with a hard-coded destination that are passed data derived
    from a source of ``kind``."""
    sinks = [
        site
        for site in module.facts.calls
        if site.name is not None and NETWORK_SINKS.match(site.name)
    ]
    if not sinks:
        return
    functions, exported = _package_sources(package, kind)
    if not functions and not exported and not _has_candidates(module, kind):
        return
    context = _context(module, functions, exported)
    tainted = _tainted(kind, context)
    for site in sinks:
        arguments = [*site.node.args, *(keyword.value for keyword in site.node.keywords)]
        here = context.at(site.scope)
        if not any(_derives(argument, kind.is_source, here, tainted) for argument in arguments):
            continue
        if has_destination(site, module.facts):
            yield site.node.lineno


# Environment dumps are found through ``env`` (a mention of os.environ), file reads by name.
SECRETS = SourceKind("secrets", is_secret_source, _FILE_READS, env=True)
HOST_DETAILS = SourceKind("host-info", is_host_info, HOST_INFO, env=False)
