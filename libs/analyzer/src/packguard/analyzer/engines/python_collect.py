"""The one walk that gathers a module's ``ModuleFacts``.

Iterative (hostile files nest deeper than the recursion limit), and dispatched by node
class: the walk touches every node of every module, so it does as little per node as it
can.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import Any

from packguard.analyzer.engines.python_facts import CallSite, ModuleFacts, qualified_name
from packguard.analyzer.engines.python_tree import child_fields

_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_DOCSTRING_OWNERS = frozenset({ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef})
_MUTATORS = frozenset({"append", "extend", "add", "update", "insert", "appendleft", "write"})


def collect_facts(tree: ast.Module) -> ModuleFacts:
    """One iterative walk (hostile files nest deeper than the recursion limit)."""
    facts = ModuleFacts()
    docstrings: set[int] = set()
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    calls: list[tuple[ast.Call, int]] = []
    while stack:
        node, scope = stack.pop()
        node_type = type(node)
        if node_type in _DOCSTRING_OWNERS:
            _mark_docstring(node, docstrings)  # parents come off the stack before children
        record = _RECORDERS.get(node_type)
        if record is not None:
            record(node, scope, facts, calls, docstrings)
        if isinstance(node, ast.Return) and node.value is not None:
            if scope in facts.top_functions:
                facts.returns.append((facts.top_functions[scope], node.value, scope))
        elif isinstance(node, _FUNCTION_NODES):
            if scope == 0 and not isinstance(node, ast.Lambda):
                facts.top_functions[id(node)] = node.name
            scope = id(node)
            facts.locals[scope] = {a.arg for a in _parameters(node.args)}
        # ``child_nodes`` inlined (this loop sees every node of every module), reversed so
        # nodes come off the stack in source order (taint chains resolve fast).
        children: list[tuple[ast.AST, int]] = []
        for name in child_fields(node_type):
            value = getattr(node, name, None)
            if isinstance(value, list):
                children.extend([(item, scope) for item in value if isinstance(item, ast.AST)])
            elif isinstance(value, ast.AST):
                children.append((value, scope))
        children.reverse()
        stack.extend(children)
    _add_assignment_aliases(facts)
    facts.calls = [
        CallSite(node, qualified_name(node.func, facts.aliases), scope == 0, scope)
        for node, scope in calls
    ]
    return facts


_Recorder = Callable[[Any, int, ModuleFacts, list[tuple[ast.Call, int]], set[int]], None]


def _record_import(node: ast.Import, scope: int, facts: ModuleFacts, *_: object) -> None:
    for alias in node.names:
        if alias.asname:
            facts.aliases[alias.asname] = alias.name


def _record_import_from(node: ast.ImportFrom, scope: int, facts: ModuleFacts, *_: object) -> None:
    if node.module and node.level == 0:
        for alias in node.names:
            if alias.name != "*":
                facts.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    else:
        facts.relative_imports.update(alias.asname or alias.name for alias in node.names)


def _record_call(
    node: ast.Call, scope: int, facts: ModuleFacts, calls: list[tuple[ast.Call, int]], *_: object
) -> None:
    calls.append((node, scope))
    func = node.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in _MUTATORS
        and isinstance(func.value, ast.Name)
    ):
        # ``found.append(secret)`` taints ``found`` like an assignment would.
        _assign(facts, scope, [func.value], node)


def _record_constant(
    node: ast.Constant,
    scope: int,
    facts: ModuleFacts,
    calls: list[tuple[ast.Call, int]],
    docstrings: set[int],
) -> None:
    if id(node) in docstrings:
        return
    if isinstance(node.value, str):
        facts.strings.append((node.lineno, node.value))
    elif isinstance(node.value, bytes):
        facts.strings.append((node.lineno, node.value.decode("latin-1")))


def _record_assign(
    node: ast.Assign | ast.AnnAssign | ast.NamedExpr, scope: int, facts: ModuleFacts, *_: object
) -> None:
    if node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        _assign(facts, scope, targets, node.value)


def _record_with(node: ast.withitem, scope: int, facts: ModuleFacts, *_: object) -> None:
    if node.optional_vars is not None:
        _assign(facts, scope, [node.optional_vars], node.context_expr)


def _record_loop(
    node: ast.For | ast.AsyncFor | ast.comprehension, scope: int, facts: ModuleFacts, *_: object
) -> None:
    _assign(facts, scope, [node.target], node.iter)


def _record_augmented(node: ast.AugAssign, scope: int, facts: ModuleFacts, *_: object) -> None:
    _assign(facts, scope, [node.target], node.value)


# By exact node class: the parser makes no subclasses, and a lookup beats an isinstance
# chain on every one of a module's nodes.
_RECORDERS: dict[type[ast.AST], _Recorder] = {
    ast.Import: _record_import,
    ast.ImportFrom: _record_import_from,
    ast.Call: _record_call,
    ast.Constant: _record_constant,
    ast.Assign: _record_assign,
    ast.AnnAssign: _record_assign,
    ast.NamedExpr: _record_assign,
    ast.withitem: _record_with,
    ast.For: _record_loop,
    ast.AsyncFor: _record_loop,
    ast.comprehension: _record_loop,
    ast.AugAssign: _record_augmented,
}


def _assign(facts: ModuleFacts, scope: int, targets: Iterable[ast.expr], value: ast.expr) -> None:
    names = frozenset(_target_names(targets))
    if names:
        facts.assignments.append((names, value))
        facts.assignment_scopes.append(scope)
        if scope:
            facts.locals.setdefault(scope, set()).update(n for n in names if "." not in n)


def _parameters(arguments: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, *extra]


def _target_names(targets: Iterable[ast.expr]) -> Iterable[str]:
    for target in targets:
        if isinstance(target, ast.Name):
            yield target.id
        elif isinstance(target, ast.Tuple | ast.List):
            yield from _target_names(target.elts)
        elif isinstance(target, ast.Subscript | ast.Attribute):
            # ``report["k"] = secret`` taints ``report``; ``self.x = ...`` taints ``self.x``.
            name = qualified_name(target, {}) if isinstance(target, ast.Attribute) else None
            base = target.value
            while isinstance(base, ast.Subscript | ast.Attribute):
                base = base.value
            if name is not None:
                yield name
            elif isinstance(base, ast.Name):
                yield base.id


def _mark_docstring(node: ast.AST, docstrings: set[int]) -> None:
    body = getattr(node, "body", None)
    if body:
        first = body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            docstrings.add(id(first.value))


def _add_assignment_aliases(facts: ModuleFacts) -> None:
    for names, value in facts.assignments:
        if len(names) == 1 and isinstance(value, ast.Name | ast.Attribute):
            (name,) = names
            resolved = qualified_name(value, facts.aliases)
            if resolved is not None and resolved != name:
                facts.aliases[name] = resolved
