"""Iterative walks over Python's ``ast`` that skip what no rule looks at.

``ast.walk`` visits every ``Load``/``Store`` context and every operator (a third of all
nodes) through two generator layers per node; the engine walks each module several
times, so it uses these instead. Walks are iterative: hostile files nest deeper than the
recursion limit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

# Fields that never hold a node the engine reads: identifiers, flags, contexts, operators,
# and ``Import`` names (``alias`` nodes, read from the statement itself).
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "arg", "name", "module", "level", "names"}
    | {"type_comment", "kind", "is_async", "conversion"}
)


def _fields_of(node_type: type[ast.AST]) -> tuple[str, ...]:
    return tuple(name for name in node_type._fields if name not in _LEAF_FIELDS)


# A constant table over the node classes of this interpreter's grammar.
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {
    value: _fields_of(value)
    for value in vars(ast).values()
    if isinstance(value, type) and issubclass(value, ast.AST)
}


def child_fields(node_type: type[ast.AST]) -> tuple[str, ...]:
    """The fields of ``node_type`` that may hold nodes the engine reads."""
    fields = _CHILD_FIELDS.get(node_type)
    return _fields_of(node_type) if fields is None else fields


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The node's children in source order, without contexts and operators."""
    children: list[ast.AST] = []
    for name in child_fields(type(node)):
        value = getattr(node, name, None)
        if isinstance(value, list):
            children.extend([item for item in value if isinstance(item, ast.AST)])
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and everything below it (in no guaranteed order), like ``ast.walk``."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child_nodes(current))
