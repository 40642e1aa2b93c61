"""What the python-ast engine needs to know about one module, gathered in one walk.

Names are resolved through the module's imports and simple aliases (``import base64 as
b``, ``from os import system``, ``e = eval``), flow-insensitively: good enough to see
through the usual renaming without executing or type-checking anything.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Protocol

from packguard.analyzer.engines.python_tree import walk

_BUILTIN_PREFIXES = ("builtins.", "__builtins__.")
UNKNOWN_RECEIVER = "?"


@dataclass(frozen=True)
class CallSite:
    node: ast.Call
    name: str | None
    """The callee's qualified name (``base64.b64decode``), if it has one."""
    at_module_level: bool
    """Runs when the module is imported (not inside a def or lambda)."""
    scope: int = 0
    """The innermost enclosing function (its ``id``), 0 at module level."""


@dataclass
class ModuleFacts:
    aliases: dict[str, str] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    strings: list[tuple[int, str]] = field(default_factory=list)
    """(line, text) of every str/bytes constant that is not a docstring."""
    assignments: list[tuple[frozenset[str], ast.expr]] = field(default_factory=list)
    """Assignments, ``with ... as`` and ``for`` targets, with the expression they take."""
    assignment_scopes: list[int] = field(default_factory=list)
    """The scope (see ``CallSite.scope``) of each assignment."""
    locals: dict[int, set[str]] = field(default_factory=dict)
    """Names assigned, or taken as parameters, in each function scope."""
    relative_imports: set[str] = field(default_factory=set)
    """Names bound by ``from .module import name`` (the package's own code)."""
    returns: list[tuple[str, ast.expr, int]] = field(default_factory=list)
    """(function name, returned expression, the function's scope) of every module-level
    ``def`` (methods and nested functions are not callable from other modules by name)."""
    top_functions: dict[int, str] = field(default_factory=dict)
    """Scope id → name of each module-level ``def``."""
    memo: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per-module name sets computed once (names holding a pattern)."""
    _summaries: list[AssignmentSummary] | None = None

    def import_scopes(self) -> frozenset[int]:
        """Scopes whose code runs on import: the module's, and module-level functions it
        calls by name at module level (and the ones those call)."""
        by_name = {name: scope for scope, name in self.top_functions.items()}
        reached = {0}
        frontier = [0]
        while frontier:
            scope = frontier.pop()
            for site in self.calls:
                target = by_name.get(site.name or "")
                if site.scope == scope and target is not None and target not in reached:
                    reached.add(target)
                    frontier.append(target)
        return frozenset(reached)

    def key(self, scope: int, name: str) -> str:
        """Where a name read in ``scope`` lives: the function's own local, else the module's.
        Attributes (``self.token``) are shared across a module's functions."""
        if scope and "." not in name and name in self.locals.get(scope, ()):
            return f"{scope}:{name}"
        return f"0:{name}"

    def summaries(self) -> list[AssignmentSummary]:
        """Each assignment's value walked once: the strings, names and calls in it."""
        if self._summaries is None:
            self._summaries = [
                _summarize(self, names, value, scope)
                for (names, value), scope in zip(
                    self.assignments, self.assignment_scopes, strict=True
                )
            ]
        return self._summaries


@dataclass(frozen=True)
class AssignmentSummary:
    names: frozenset[str]
    """Keys (``ModuleFacts.key``) of the assigned names."""
    value: ast.expr
    scope: int
    strings: tuple[str, ...]
    used: frozenset[str]
    """Keys of the names and dotted attribute names read by the value."""
    calls: tuple[str, ...]
    """Qualified names of the calls in the value."""


def _summarize(
    facts: ModuleFacts, names: frozenset[str], value: ast.expr, scope: int
) -> AssignmentSummary:
    strings: list[str] = []
    used: set[str] = set()
    calls: list[str] = []
    aliases = facts.aliases
    for node in walk(value):
        if isinstance(node, ast.Name):
            used.add(facts.key(scope, node.id))
        elif isinstance(node, ast.Attribute):
            dotted = qualified_name(node, {})
            if dotted is not None:
                used.add(facts.key(scope, dotted))
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                strings.append(node.value)
            elif isinstance(node.value, bytes):
                strings.append(node.value.decode("latin-1"))
        elif isinstance(node, ast.Call):
            name = qualified_name(node.func, aliases)
            if name is not None:
                calls.append(name)
    keys = frozenset(facts.key(scope, name) for name in names)
    return AssignmentSummary(keys, value, scope, tuple(strings), frozenset(used), tuple(calls))


class Assigned(Protocol):
    """An assignment as ``spread`` follows it."""

    @property
    def names(self) -> frozenset[str]: ...

    @property
    def used(self) -> frozenset[str]: ...


def spread(summaries: Sequence[Assigned], seeds: Iterable[int]) -> frozenset[str]:
    """Names of the seed assignments, and of every assignment reading one of them."""
    readers: dict[str, list[int]] = {}
    for index, summary in enumerate(summaries):
        for name in summary.used:
            readers.setdefault(name, []).append(index)
    done: set[int] = set()
    names: set[str] = set()
    queue = list(seeds)
    while queue:
        index = queue.pop()
        if index in done:
            continue
        done.add(index)
        for name in summaries[index].names - names:
            names.add(name)
            queue.extend(readers.get(name, ()))
    return frozenset(names)


def qualified_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        base = aliases.get(node.id, node.id)
    elif isinstance(node, ast.Call) and (imported := _dynamic_import(node, aliases)):
        base = imported
    elif attributes:
        # A method of a computed receiver (``Path(p).write_text``): ``?.write_text``.
        base = UNKNOWN_RECEIVER
    else:
        return None
    name = ".".join([base, *reversed(attributes)])
    for prefix in _BUILTIN_PREFIXES:
        name = name.removeprefix(prefix)
    return name


def _dynamic_import(node: ast.Call, aliases: dict[str, str]) -> str | None:
    """``__import__("os")`` and ``importlib.import_module("os")`` name the module."""
    func = node.func
    is_import = (isinstance(func, ast.Name) and aliases.get(func.id, func.id) == "__import__") or (
        isinstance(func, ast.Attribute)
        and func.attr == "import_module"
        and isinstance(func.value, ast.Name)
        and aliases.get(func.value.id, func.value.id) == "importlib"
    )
    if is_import and node.args and isinstance(node.args[0], ast.Constant):
        value = node.args[0].value
        return value if isinstance(value, str) else None
    return None


def derives_from(
    expr: ast.AST,
    sources: re.Pattern[str],
    tainted: AbstractSet[str],
    facts: ModuleFacts,
    scope: int = 0,
) -> bool:
    """Whether ``expr`` (read in ``scope``) contains a call to a source, or a name
    assigned from one (``tainted`` holds keys)."""
    for node in walk(expr):
        if tainted and is_tainted_name(node, tainted, facts, scope):
            return True
        if isinstance(node, ast.Call):
            name = qualified_name(node.func, facts.aliases)
            if name is not None and sources.match(name):
                return True
    return False


def is_tainted_name(
    node: ast.AST, tainted: AbstractSet[str], facts: ModuleFacts, scope: int
) -> bool:
    if isinstance(node, ast.Name):
        return facts.key(scope, node.id) in tainted
    if isinstance(node, ast.Attribute):
        dotted = qualified_name(node, {})
        return dotted is not None and facts.key(scope, dotted) in tainted
    return False


def tainted_names(facts: ModuleFacts, sources: re.Pattern[str]) -> frozenset[str]:
    """Keys of names assigned (directly or through other names) from a call to a source."""
    summaries = facts.summaries()
    seeds = [i for i, s in enumerate(summaries) if any(sources.match(c) for c in s.calls)]
    return spread(summaries, seeds)


@dataclass
class PyModule:
    """One parsed Python file, as matchers see it."""

    path: str
    member_path: str
    facts: ModuleFacts
    lines: list[str] = field(default_factory=list)


def call_arguments(call: ast.Call) -> list[ast.expr]:
    """Positional and keyword arguments, plus the receiver of a method call."""
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    if isinstance(call.func, ast.Attribute):
        arguments.append(call.func.value)
    return arguments


def _constant_texts(expr: ast.AST) -> Iterable[str]:
    for node in walk(expr):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                yield node.value
            elif isinstance(node.value, bytes):
                yield node.value.decode("latin-1")


def names_holding(facts: ModuleFacts, strings: re.Pattern[str]) -> frozenset[str]:
    """Names assigned (directly or through other names) an expression with a matching
    string constant: ``rc = home + "/.bashrc"`` holds ``\\.bashrc``."""
    key = strings.pattern
    if key not in facts.memo:
        summaries = facts.summaries()
        seeds = [i for i, s in enumerate(summaries) if any(map(strings.search, s.strings))]
        facts.memo[key] = spread(summaries, seeds)
    return facts.memo[key]


def has_string(
    call: ast.Call,
    strings: re.Pattern[str],
    facts: ModuleFacts,
    holding: AbstractSet[str] | None = None,
    scope: int = 0,
) -> bool:
    """Whether the call (in ``scope``) has a matching string in its arguments or receiver,
    directly or through a name (``holding`` from ``names_holding``, computed when not
    given)."""
    if holding is None:
        holding = names_holding(facts, strings)
    for argument in call_arguments(call):
        if any(strings.search(text) for text in _constant_texts(argument)):
            return True
        if holding and any(is_tainted_name(node, holding, facts, scope) for node in walk(argument)):
            return True
    return False
