"""The ``python-ast`` engine: declarative call and string patterns over Python's ``ast``.

A rule's ``match`` is ``any_of`` a list of patterns::

    call: [exec, eval]             callee qualified names; fnmatch wildcards allowed
    argument_from: [base64.*]      an argument contains a call to one of these, or a
                                   name assigned from one (simple taint, module-wide)
    string: ['\\.aws/credentials'] regexes over str/bytes constants (inside the call's
                                   arguments when ``call`` is given; docstrings never)
    scope: module                  only calls that run at import time (default: any)

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

from pydantic import BaseModel, ConfigDict, Field, model_validator

from packguard.analyzer.engines.base import (
    EngineResult,
    Hit,
    cap_snippet,
    check_regexes,
    compile_globs,
)
from packguard.analyzer.engines.python_facts import (
    ModuleFacts,
    collect_facts,
    derives_from,
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
    scope: Literal["any", "module"] = "any"

    @model_validator(mode="after")
    def _coherent(self) -> AstPattern:
        if not self.call and not self.string:
            raise ValueError("a pattern needs `call` or `string`")
        if self.argument_from and not self.call:
            raise ValueError("`argument_from` needs `call`")
        if self.scope == "module" and not self.call:
            raise ValueError("`scope` applies to calls only")
        check_regexes(self.string)
        return self


class AstMatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    any_of: tuple[AstPattern, ...] = Field(min_length=1)


def _names_regex(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)) if patterns else None


def _strings_regex(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@dataclass(frozen=True)
class _Pattern:
    calls: re.Pattern[str] | None
    sources: re.Pattern[str] | None
    strings: re.Pattern[str] | None
    module_only: bool

    @classmethod
    def compile(cls, pattern: AstPattern) -> _Pattern:
        return cls(
            _names_regex(pattern.call),
            _names_regex(pattern.argument_from),
            _strings_regex(pattern.string),
            pattern.scope == "module",
        )

    def lines(self, facts: ModuleFacts) -> Iterator[int]:
        if self.calls is None:
            if self.strings is not None:
                yield from (line for line, text in facts.strings if self.strings.search(text))
            return
        tainted = tainted_names(facts, self.sources) if self.sources is not None else set()
        for site in facts.calls:
            if site.name is None or not self.calls.match(site.name):
                continue
            if self.module_only and not site.at_module_level:
                continue
            arguments = [*site.node.args, *(keyword.value for keyword in site.node.keywords)]
            if self.sources is not None and not any(
                derives_from(arg, self.sources, tainted, facts.aliases) for arg in arguments
            ):
                continue
            if self.strings is not None and not any(self._has_string(arg) for arg in arguments):
                continue
            yield site.node.lineno

    def _has_string(self, argument: ast.expr) -> bool:
        if self.strings is None:
            return False
        return any(
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and self.strings.search(node.value) is not None
            for node in ast.walk(argument)
        )


@dataclass(frozen=True)
class _Rule:
    spec: RuleSpec
    paths: re.Pattern[str]
    patterns: tuple[_Pattern, ...]


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

    def scan(self, files: Sequence[TreeFile], specs: Sequence[RuleSpec]) -> EngineResult:
        rules = [
            _Rule(
                spec,
                compile_globs(spec.paths),
                tuple(_Pattern.compile(p) for p in AstMatch.model_validate(spec.match).any_of),
            )
            for spec in specs
        ]
        result = EngineResult()
        counts = {"parsed": 0, "unparsable": 0, "too large": 0}
        for tree_file in files:
            wanted = [rule for rule in rules if rule.paths.match(tree_file.member_path)]
            if tree_file.file_type != "python" or not wanted:
                continue
            if tree_file.size > MAX_SOURCE_BYTES:
                counts["too large"] += 1
                continue
            source = tree_file.disk_path.read_bytes()
            tree = parse_source(source)
            if tree is None:
                counts["unparsable"] += 1
                continue
            counts["parsed"] += 1
            result.hits.extend(_hits(wanted, collect_facts(tree), tree_file.path, source))
        result.notes.append("python files: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        return result


def _hits(rules: Sequence[_Rule], facts: ModuleFacts, path: str, source: bytes) -> Iterator[Hit]:
    lines = source_lines(source)
    for rule in rules:
        found = sorted({line for pattern in rule.patterns for line in pattern.lines(facts)})
        for line in found:
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            yield Hit(rule.spec.id, path, line, cap_snippet(text))
