"""Where sensitive data comes from and where it goes, in Python: sources, sinks, and each
module's part in the flow between them (``ModuleFlow``).

Flow is name-based and flow-insensitive like ``python_facts``: a name is tainted when it
is ever assigned an expression holding a source or a tainted name. Functions whose return
value is tainted become sources themselves, across the package's modules (a payload split
into ``collect.py`` and ``send.py`` is still one flow: ``python_leaks`` follows it).

A ``ModuleFlow`` keeps what that needs as names and sets, not syntax trees, so the engine
can drop each module's tree as soon as the module is read: a package of thousands of
modules never holds thousands of trees.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from packguard.analyzer.engines.base import line_snippet
from packguard.analyzer.engines.python_facts import (
    AssignmentSummary,
    CallSite,
    ModuleFacts,
    PyModule,
    call_arguments,
    has_string,
    names_holding,
    qualified_name,
)
from packguard.analyzer.engines.python_tree import walk
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
    scope: int = 0
    """The function scope the nodes being judged are read in."""

    def at(self, scope: int) -> SourceContext:
        return replace(self, scope=scope)


@dataclass(frozen=True)
class ExprFlow:
    """What an expression (read in one scope) takes data from, without its syntax tree."""

    keys: frozenset[str]
    """Keys (``ModuleFacts.key``) of the names and dotted names it reads."""
    module_names: frozenset[str]
    """The bare names it reads that live at module level (where imports land)."""
    calls: frozenset[str]
    """Qualified names of the calls in it."""
    sources: frozenset[str]
    """Keys of the ``SourceKind``s it holds a source of itself."""


@dataclass(frozen=True)
class AssignmentFlow:
    names: frozenset[str]
    used: frozenset[str]
    calls: tuple[str, ...]


@dataclass(frozen=True)
class SinkFlow:
    """A network sink given a hard-coded destination."""

    line: int
    snippet: str
    arguments: ExprFlow
    """Its positional and keyword arguments, together."""


@dataclass(frozen=True)
class ModuleFlow:
    """One module's part in the package's data flow (see the module docstring)."""

    relative_imports: frozenset[str]
    candidates: frozenset[str]
    """Keys of the kinds the module may read a source of (``_has_candidates``)."""
    assignments: tuple[AssignmentFlow, ...]
    direct: dict[str, frozenset[int]]
    """Kind key → indices of the assignments whose value holds a source itself."""
    returns: tuple[tuple[str, ExprFlow], ...]
    """(name, returned expression) of module-level functions."""
    sinks: tuple[SinkFlow, ...]


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
    """Assignments whose value holds a source itself."""
    return frozenset(
        index
        for index, summary in enumerate(context.facts.summaries())
        if _may_hold_source(summary, kind, context.facts)
        and any(kind.is_source(node, context.at(summary.scope)) for node in walk(summary.value))
    )


def _expr_flow(
    expressions: Iterable[ast.expr],
    scope: int,
    kinds: Sequence[SourceKind],
    context: SourceContext,
) -> ExprFlow:
    """Everything ``python_leaks`` asks of ``expressions`` (read in ``scope``), gathered in
    one walk: the names it reads, where they live, its calls and its own sources."""
    facts, here = context.facts, context.at(scope)
    keys: set[str] = set()
    module_names: set[str] = set()
    calls: set[str] = set()
    sources: set[str] = set()
    for expression in expressions:
        for node in walk(expression):
            if isinstance(node, ast.Name):
                key = facts.key(scope, node.id)
                keys.add(key)
                if key == f"0:{node.id}":
                    module_names.add(node.id)
            elif isinstance(node, ast.Attribute):
                dotted = qualified_name(node, {})
                if dotted is not None:
                    keys.add(facts.key(scope, dotted))
            elif isinstance(node, ast.Call):
                name = qualified_name(node.func, facts.aliases)
                if name is not None:
                    calls.add(name)
            sources.update(kind.key for kind in kinds if kind.is_source(node, here))
    return ExprFlow(frozenset(keys), frozenset(module_names), frozenset(calls), frozenset(sources))


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


def module_flow(module: PyModule, kinds: Sequence[SourceKind]) -> ModuleFlow:
    """What ``python_leaks`` needs of ``module`` for ``kinds``, read while its tree lives."""
    facts = module.facts
    context = SourceContext(facts, names_holding(facts, SECRET_STRING))
    sinks = tuple(
        SinkFlow(
            site.node.lineno,
            line_snippet(module.lines, site.node.lineno),
            _expr_flow(
                [*site.node.args, *(keyword.value for keyword in site.node.keywords)],
                site.scope,
                kinds,
                context,
            ),
        )
        for site in facts.calls
        if site.name is not None and NETWORK_SINKS.match(site.name) and has_destination(site, facts)
    )
    return ModuleFlow(
        relative_imports=frozenset(facts.relative_imports),
        candidates=frozenset(kind.key for kind in kinds if _has_candidates(module, kind)),
        assignments=tuple(
            AssignmentFlow(summary.names, summary.used, summary.calls)
            for summary in facts.summaries()
        ),
        direct={kind.key: _direct_sources(kind, context) for kind in kinds},
        returns=tuple(
            (name, _expr_flow([value], scope, kinds, context))
            for name, value, scope in facts.returns
        ),
        sinks=sinks,
    )


# Environment dumps are found through ``env`` (a mention of os.environ), file reads by name.
SECRETS = SourceKind("secrets", is_secret_source, _FILE_READS, env=True)
HOST_DETAILS = SourceKind("host-info", is_host_info, HOST_INFO, env=False)
