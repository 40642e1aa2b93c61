"""What the python-ast engine needs to know about one module, gathered in one walk.

Names are resolved through the module's imports and simple aliases (``import base64 as
b``, ``from os import system``, ``e = eval``), flow-insensitively: good enough to see
through the usual renaming without executing or type-checking anything.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_DOCSTRING_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_BUILTIN_PREFIXES = ("builtins.", "__builtins__.")
# Taint propagates along assignment chains; a few rounds cover real code, and the cap
# keeps a hostile file from making this quadratic.
_TAINT_ROUNDS = 8


@dataclass(frozen=True)
class CallSite:
    node: ast.Call
    name: str | None
    """The callee's qualified name (``base64.b64decode``), if it has one."""
    at_module_level: bool
    """Runs when the module is imported (not inside a def or lambda)."""


@dataclass
class ModuleFacts:
    aliases: dict[str, str] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    strings: list[tuple[int, str]] = field(default_factory=list)
    """(line, text) of every str/bytes constant that is not a docstring."""
    assignments: list[tuple[frozenset[str], ast.expr]] = field(default_factory=list)


def qualified_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        base = aliases.get(node.id, node.id)
    elif isinstance(node, ast.Call) and (imported := _dynamic_import(node, aliases)):
        base = imported
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


def collect_facts(tree: ast.Module) -> ModuleFacts:
    facts = ModuleFacts()
    docstrings = _docstring_ids(tree)
    stack: list[tuple[ast.AST, bool]] = [(tree, True)]
    calls: list[tuple[ast.Call, bool]] = []
    while stack:
        node, at_module_level = stack.pop()
        _record(node, at_module_level, facts, calls, docstrings)
        child_level = at_module_level and not isinstance(node, _FUNCTION_NODES)
        # Reversed so nodes come off the stack in source order (taint chains resolve fast).
        children = list(ast.iter_child_nodes(node))
        stack.extend((child, child_level) for child in reversed(children))
    _add_assignment_aliases(facts)
    facts.calls = [
        CallSite(node, qualified_name(node.func, facts.aliases), level) for node, level in calls
    ]
    return facts


def _record(
    node: ast.AST,
    at_module_level: bool,
    facts: ModuleFacts,
    calls: list[tuple[ast.Call, bool]],
    docstrings: set[int],
) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                facts.aliases[alias.asname] = alias.name
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        for alias in node.names:
            if alias.name != "*":
                facts.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    elif isinstance(node, ast.Call):
        calls.append((node, at_module_level))
    elif isinstance(node, ast.Constant) and id(node) not in docstrings:
        if isinstance(node.value, str):
            facts.strings.append((node.lineno, node.value))
        elif isinstance(node.value, bytes):
            facts.strings.append((node.lineno, node.value.decode("latin-1")))
    elif isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = frozenset(_target_names(targets))
        if names:
            facts.assignments.append((names, node.value))


def _target_names(targets: Iterable[ast.expr]) -> Iterable[str]:
    for target in targets:
        if isinstance(target, ast.Name):
            yield target.id
        elif isinstance(target, ast.Tuple | ast.List):
            yield from _target_names(target.elts)


def _docstring_ids(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, _DOCSTRING_OWNERS) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _add_assignment_aliases(facts: ModuleFacts) -> None:
    for names, value in facts.assignments:
        if len(names) == 1 and isinstance(value, ast.Name | ast.Attribute):
            (name,) = names
            resolved = qualified_name(value, facts.aliases)
            if resolved is not None and resolved != name:
                facts.aliases[name] = resolved


def derives_from(
    expr: ast.AST, sources: re.Pattern[str], tainted: set[str], aliases: dict[str, str]
) -> bool:
    """Whether ``expr`` contains a call to a source, or a name assigned from one."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Name) and node.id in tainted:
            return True
        if isinstance(node, ast.Call):
            name = qualified_name(node.func, aliases)
            if name is not None and sources.match(name):
                return True
    return False


def tainted_names(facts: ModuleFacts, sources: re.Pattern[str]) -> set[str]:
    """Names assigned (directly or through other names) from a call to a source."""
    tainted: set[str] = set()
    for _ in range(_TAINT_ROUNDS):
        grown = False
        for names, value in facts.assignments:
            if not names <= tainted and derives_from(value, sources, tainted, facts.aliases):
                tainted |= names
                grown = True
        if not grown:
            break
    return tainted
