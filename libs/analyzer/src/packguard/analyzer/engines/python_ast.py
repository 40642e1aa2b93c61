"""The ``python-ast`` engine: declarative call and string patterns over Python's ``ast``.

A rule's ``match`` is ``any_of`` a list of patterns::

    call: [exec, eval]             callee qualified names; fnmatch wildcards allowed
    argument_from: [base64.*]      an argument contains a call to one of these, or a
                                   name assigned from one (simple taint, module-wide)
    string: ['\\.aws/credentials'] regexes over str/bytes constants (inside the call's
                                   arguments when ``call`` is given; docstrings never)
    scope: module                  only calls at module level (default: any); ``import``
                                   also counts module-level functions the module calls
                                   at import, and anything in setup.py
    file_string: ['^0x[0-9a-f]{40}$'] the module must also hold a string matching one of
                                   these (a combination within one file)

Strings in a call's arguments are also looked up through the names they were assigned to
and in the call's receiver (``Path(p).open``). ``matcher: <rule-id>`` names a Python
matcher (``pyrules``) instead, for what these patterns cannot say.

Source is parsed, never executed or compiled to bytecode. Modules are read one at a time
and each distinct file once (an sdist and its wheel share most): a module's syntax tree
is dropped once its rules ran, and what cross-module rules need is kept as a
``ModuleFlow`` summary. Files over ``MAX_SOURCE_BYTES`` get no tree; the text rules still
read them, and the engine's note names them.
"""

from __future__ import annotations

import ast
import contextlib
import fnmatch
import gc
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from packguard.analyzer.engines.base import (
    EngineResult,
    Hit,
    ScanContext,
    check_regexes,
    compile_globs,
    group_by_content,
    line_snippet,
    listed,
    read_capped,
)
from packguard.analyzer.engines.pyrules import PYTHON_MATCHERS, PythonMatcher
from packguard.analyzer.engines.python_collect import collect_facts
from packguard.analyzer.engines.python_facts import (
    ModuleFacts,
    PyModule,
    call_arguments,
    derives_from,
    has_string,
    names_holding,
    tainted_names,
)
from packguard.analyzer.engines.python_flow import ModuleFlow, SourceKind, module_flow
from packguard.analyzer.engines.python_leaks import PackageFlow, leaks
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

# Parsing peaks at ~165 MiB per MiB of dense source (CPython's parser arena and the node
# objects at once): 2 MiB keeps one module well inside the sandbox's 1 GiB. No Python file
# of the popular packages bench.detection reads comes near it (the largest: 1.4 MiB).
MAX_SOURCE_BYTES = 2 << 20


class AstPattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    call: tuple[str, ...] = ()
    argument_from: tuple[str, ...] = ()
    string: tuple[str, ...] = ()
    scope: Literal["any", "module", "import"] = "any"
    file_string: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _coherent(self) -> AstPattern:
        if not self.call and not self.string:
            raise ValueError("a pattern needs `call` or `string`")
        if self.argument_from and not self.call:
            raise ValueError("`argument_from` needs `call`")
        if self.scope != "any" and not self.call:
            raise ValueError("`scope` applies to calls only")
        check_regexes([*self.string, *self.file_string])
        return self


class AstMatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    any_of: tuple[AstPattern, ...] = ()
    matcher: str | None = None
    """A rule id registered in ``pyrules.PYTHON_MATCHERS``, for what patterns cannot say."""

    @model_validator(mode="after")
    def _one_kind(self) -> AstMatch:
        if bool(self.any_of) == (self.matcher is not None):
            raise ValueError("give either `any_of` patterns or a `matcher`")
        if self.matcher is not None and self.matcher not in PYTHON_MATCHERS:
            raise ValueError(f"no python matcher named {self.matcher!r}")
        return self


def _names_regex(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)) if patterns else None


def _strings_regex(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@dataclass(frozen=True)
class _Pattern:
    calls: re.Pattern[str] | None
    sources: re.Pattern[str] | None
    strings: re.Pattern[str] | None
    file_strings: re.Pattern[str] | None
    scope: str

    @classmethod
    def compile(cls, pattern: AstPattern) -> _Pattern:
        return cls(
            _names_regex(pattern.call),
            _names_regex(pattern.argument_from),
            _strings_regex(pattern.string),
            _strings_regex(pattern.file_string),
            pattern.scope,
        )

    def lines(self, facts: ModuleFacts, install_time: bool = False) -> Iterator[int]:
        """``install_time``: the whole file runs when the package installs (setup.py)."""
        if self.file_strings is not None and not any(
            self.file_strings.search(text) for _, text in facts.strings
        ):
            return
        if self.calls is None:
            if self.strings is not None:
                yield from (line for line, text in facts.strings if self.strings.search(text))
            return
        tainted = tainted_names(facts, self.sources) if self.sources is not None else frozenset()
        holding = names_holding(facts, self.strings) if self.strings is not None else frozenset()
        on_import = facts.import_scopes() if self.scope == "import" else frozenset()
        for site in facts.calls:
            if site.name is None or not self.calls.match(site.name):
                continue
            if self.scope == "module" and not site.at_module_level:
                continue
            if self.scope == "import" and not install_time and site.scope not in on_import:
                continue
            if self.sources is not None and not any(
                derives_from(arg, self.sources, tainted, facts, site.scope)
                for arg in call_arguments(site.node)
            ):
                continue
            if self.strings is not None and not has_string(
                site.node, self.strings, facts, holding, site.scope
            ):
                continue
            yield site.node.lineno


@dataclass(frozen=True)
class _Rule:
    spec: RuleSpec
    paths: re.Pattern[str]
    patterns: tuple[_Pattern, ...]
    matcher: PythonMatcher | None
    leak: SourceKind | None = None
    """A cross-module leak rule: judged after every module was read."""


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Parsing allocates millions of nodes, and the cyclic collector would walk the whole
    heap again and again meanwhile (numpy's parsing: 7.3 s with it, 1.9 s without). Trees
    and facts hold no reference cycles: reference counting frees each module's as it goes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_source(source: bytes) -> ast.Module | None:
    """The module's AST, or ``None`` for anything Python 3 cannot parse (incl. Python 2)."""
    with warnings.catch_warnings():
        # Invalid escape sequences and the like would print a warning per hostile file.
        warnings.simplefilter("ignore")
        try:
            return ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None


def source_lines(source: bytes) -> list[str]:
    # Split exactly where the tokenizer counts lines (not on form feeds or U+2028).
    text = source.decode("utf-8", "replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


class PythonAstEngine:
    def validate(self, spec: RuleSpec) -> None:
        AstMatch.model_validate(spec.match)

    def scan(
        self, files: Sequence[TreeFile], specs: Sequence[RuleSpec], context: ScanContext
    ) -> EngineResult:
        rules = [_compile(spec) for spec in specs]
        kinds = list({rule.leak.key: rule.leak for rule in rules if rule.leak}.values())
        scan = _Scan(kinds)
        selected = [
            (tree_file, wanted)
            for tree_file in files
            if tree_file.file_type == "python"
            and (wanted := [rule for rule in rules if rule.paths.match(tree_file.member_path)])
        ]
        with cyclic_gc_paused():
            for group in group_by_content(selected):
                scan.read(group)
        result = EngineResult(hits=scan.hits)
        for rule_id, kind, path, flow in scan.pending:
            sinks = leaks(flow, scan.package, kind)
            result.hits.extend(Hit(rule_id, path, sink.line, sink.snippet) for sink in sinks)
        counts = scan.counts
        result.notes.append("python files: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        if scan.too_large:
            result.notes.append(
                f"python files over {MAX_SOURCE_BYTES >> 20} MiB, text rules only: "
                + listed(scan.too_large)
            )
        return result


@dataclass
class _Scan:
    """One engine run, a distinct file at a time: nothing of a module's tree outlives
    ``read``."""

    kinds: list[SourceKind]
    hits: list[Hit] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"parsed": 0, "unparsable": 0, "too large": 0}
    )
    too_large: list[str] = field(default_factory=list)
    package: PackageFlow = field(default_factory=PackageFlow)
    pending: list[tuple[str, SourceKind, str, ModuleFlow]] = field(default_factory=list)
    """Leak rules to judge once the package's flow is complete: (rule id, the sources it
    follows, path, the module's flow)."""

    def read(self, group: Sequence[tuple[TreeFile, list[_Rule]]]) -> None:
        """``group``: the files of one content, each with the rules its path wants."""
        first = group[0][0]
        source = read_capped(first, MAX_SOURCE_BYTES)
        if source is None:
            self.counts["too large"] += len(group)
            self.too_large.extend(tree_file.path for tree_file, _ in group)
            return
        tree = parse_source(source)
        if tree is None:
            self.counts["unparsable"] += len(group)
            return
        self.counts["parsed"] += len(group)
        facts = collect_facts(tree)
        lines = source_lines(source)
        flow = None
        if self.kinds:
            flow = module_flow(PyModule(first.path, first.member_path, facts, lines), self.kinds)
            self.package.modules.append(flow)  # once per content: a copy adds nothing
        for tree_file, wanted in group:
            module = PyModule(tree_file.path, tree_file.member_path, facts, lines)
            self.hits.extend(_hits(wanted, module))
            if flow is not None:
                self.pending.extend(
                    (rule.spec.id, rule.leak, tree_file.path, flow) for rule in wanted if rule.leak
                )


def _compile(spec: RuleSpec) -> _Rule:
    match = AstMatch.model_validate(spec.match)
    patterns = tuple(_Pattern.compile(p) for p in match.any_of)
    found = PYTHON_MATCHERS[match.matcher] if match.matcher is not None else None
    if isinstance(found, SourceKind):
        return _Rule(spec, compile_globs(spec.paths), patterns, None, found)
    return _Rule(spec, compile_globs(spec.paths), patterns, found)


def _hits(rules: Sequence[_Rule], module: PyModule) -> Iterator[Hit]:
    install_time = module.member_path.rsplit("/", 1)[-1] == "setup.py"
    for rule in rules:
        found = {
            line for pattern in rule.patterns for line in pattern.lines(module.facts, install_time)
        }
        if rule.matcher is not None:
            found.update(rule.matcher(module))
        for line in sorted(found):
            yield Hit(rule.spec.id, module.path, line, line_snippet(module.lines, line))
