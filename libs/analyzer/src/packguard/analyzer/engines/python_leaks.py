"""Leaks across a package's Python modules: network sinks with a hard-coded destination
passed data from a source, directly or through names and functions of other modules.

Judged once every module was read, over ``ModuleFlow`` summaries alone (``python_flow``):
by then no syntax tree is left.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from packguard.analyzer.engines.python_facts import spread
from packguard.analyzer.engines.python_flow import ExprFlow, ModuleFlow, SinkFlow, SourceKind


@dataclass
class PackageFlow:
    """Every parsed module's flow, each distinct file once."""

    modules: list[ModuleFlow] = field(default_factory=list)
    _sources: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)

    def sources(self, kind: SourceKind) -> tuple[frozenset[str], frozenset[str]]:
        """(tainted function names, tainted module-level names) over the whole package."""
        if kind.key not in self._sources:
            self._sources[kind.key] = _package_sources(self.modules, kind)
        return self._sources[kind.key]


def _is_package_call(
    name: str, relative_imports: AbstractSet[str], functions: frozenset[str]
) -> bool:
    """``grab()`` or ``collect.grab()`` (``from . import collect``) for a package
    function ``grab``: a bare last name would match every ``.get()`` and ``.split()``."""
    head, _, last = name.rpartition(".")
    return last in functions and (not head or head in relative_imports)


@dataclass(frozen=True)
class _Taint:
    """What one module's expressions are judged against, for one kind."""

    kind: SourceKind
    flow: ModuleFlow
    functions: frozenset[str]
    imported: frozenset[str]
    """Tainted module-level names of other modules, imported relatively here."""
    names: frozenset[str]
    """Keys of the module's tainted names."""

    def derives(self, expression: ExprFlow) -> bool:
        return (
            self.kind.key in expression.sources
            or not expression.keys.isdisjoint(self.names)
            or not expression.module_names.isdisjoint(self.imported)
            or any(
                _is_package_call(call, self.flow.relative_imports, self.functions)
                for call in expression.calls
            )
        )


def _taint(
    flow: ModuleFlow, kind: SourceKind, functions: frozenset[str], exported: frozenset[str]
) -> _Taint:
    imported = flow.relative_imports & exported
    seeds = set(flow.direct.get(kind.key, ()))
    if functions or imported:
        imported_keys = {f"0:{name}" for name in imported}
        seeds.update(
            index
            for index, assignment in enumerate(flow.assignments)
            if not assignment.used.isdisjoint(imported_keys)
            or any(
                _is_package_call(call, flow.relative_imports, functions)
                for call in assignment.calls
            )
        )
    return _Taint(kind, flow, functions, imported, spread(flow.assignments, seeds))


def _package_sources(
    modules: Sequence[ModuleFlow], kind: SourceKind
) -> tuple[frozenset[str], frozenset[str]]:
    functions: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    for _ in range(2):  # a second pass sees functions that call the first pass's
        found_functions: set[str] = set()
        found_names: set[str] = set()
        for flow in modules:
            if not (functions or names) and kind.key not in flow.candidates:
                continue  # nothing here can read a source
            taint = _taint(flow, kind, functions, names)
            found_names |= {key[2:] for key in taint.names if key.startswith("0:")}
            found_functions |= {name for name, value in flow.returns if taint.derives(value)}
        if (frozenset(found_functions), frozenset(found_names)) == (functions, names):
            break
        functions, names = frozenset(found_functions), frozenset(found_names)
    return functions, names


def leaks(flow: ModuleFlow, package: PackageFlow, kind: SourceKind) -> Iterator[SinkFlow]:
    """The module's sinks (each has a hard-coded destination) passed data derived from a
    source of ``kind``."""
    if not flow.sinks:
        return
    functions, exported = package.sources(kind)
    if not functions and not exported and kind.key not in flow.candidates:
        return
    taint = _taint(flow, kind, functions, exported)
    yield from (sink for sink in flow.sinks if taint.derives(sink.arguments))
