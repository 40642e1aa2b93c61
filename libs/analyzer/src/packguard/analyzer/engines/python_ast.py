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

Source is parsed, never executed or compiled to bytecode.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from packguard.analyzer.engines.base import (
    EngineResult,
    Hit,
    ScanContext,
    check_regexes,
    compile_globs,
    line_snippet,
    read_capped,
)
from packguard.analyzer.engines.pyrules import PYTHON_MATCHERS, PythonMatcher
from packguard.analyzer.engines.python_facts import (
    ModuleFacts,
    PyModule,
    PyPackage,
    call_arguments,
    collect_facts,
    derives_from,
    has_string,
    names_holding,
    tainted_names,
)
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

MAX_SOURCE_BYTES = 4 << 20


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
        result = EngineResult()
        counts = {"parsed": 0, "unparsable": 0, "too large": 0}
        modules: list[tuple[PyModule, list[_Rule]]] = []
        for tree_file in files:
            wanted = [rule for rule in rules if rule.paths.match(tree_file.member_path)]
            if tree_file.file_type != "python" or not wanted:
                continue
            source = read_capped(tree_file, MAX_SOURCE_BYTES)
            if source is None:
                counts["too large"] += 1
                continue
            tree = parse_source(source)
            if tree is None:
                counts["unparsable"] += 1
                continue
            counts["parsed"] += 1
            module = PyModule(tree_file.path, tree_file.member_path, collect_facts(tree))
            modules.append((module, wanted))
            module.lines = source_lines(source)
        package = PyPackage([module for module, _ in modules])
        for module, wanted in modules:
            result.hits.extend(_hits(wanted, module, package))
        result.notes.append("python files: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        return result


def _compile(spec: RuleSpec) -> _Rule:
    match = AstMatch.model_validate(spec.match)
    patterns = tuple(_Pattern.compile(p) for p in match.any_of)
    matcher = PYTHON_MATCHERS[match.matcher] if match.matcher is not None else None
    return _Rule(spec, compile_globs(spec.paths), patterns, matcher)


def _hits(rules: Sequence[_Rule], module: PyModule, package: PyPackage) -> Iterator[Hit]:
    for rule in rules:
        install_time = module.member_path.rsplit("/", 1)[-1] == "setup.py"
        found = {
            line for pattern in rule.patterns for line in pattern.lines(module.facts, install_time)
        }
        if rule.matcher is not None:
            found.update(rule.matcher(module, package))
        for line in sorted(found):
            yield Hit(rule.spec.id, module.path, line, line_snippet(module.lines, line))
