"""The ``js`` engine: declarative call and string patterns over a tree-sitter syntax tree.

A rule's ``match`` is ``any_of`` a list of patterns, or ``matcher: <rule-id>`` (``jsrules``)::

    call: [eval, Function, vm.run*]   callee qualified names (``new X`` counts as a call
                                      of X); fnmatch wildcards allowed
    argument_from: [atob, Buffer.from] an argument contains a call to one of these, or a
                                      name assigned from one (simple taint, file-wide)
    argument_text: ['(\\\\x[0-9a-f]{2}){8}'] regexes over the arguments' source text
    string: ['\\.npmrc$']             regexes over string literal values (inside the
                                      call's callee and arguments when ``call`` is given,
                                      also through names they were assigned to)
    file_string: [...]                the file must also hold a string matching one
    scope: top                        only calls outside any function (run on require);
                                      ``import`` also counts callbacks and named functions
                                      called at top level, and anything in a file an npm
                                      install script runs

Source is parsed by tree-sitter in-process, never executed.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator
from tree_sitter import Node, Query

from packguard.analyzer.engines.base import (
    EngineResult,
    Hit,
    ScanContext,
    cap_snippet,
    check_regexes,
    compile_globs,
    listed,
    read_capped,
)
from packguard.analyzer.engines.js_facts import JsFacts, collect_js_facts, make_query
from packguard.analyzer.engines.js_flow import JsModule, JsPackage, has_string, names_holding
from packguard.analyzer.engines.js_parser import JsParser
from packguard.analyzer.engines.jsrules import JS_MATCHERS, JsMatcher
from packguard.analyzer.engines.manifest import MAX_MANIFEST_BYTES, load_scripts
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

# Bundles beyond this get no syntax tree (the text rules still read them, and the note
# names them): parsing stays well under a second.
MAX_JS_BYTES = 2 << 20
_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")
_NODE_FILE = re.compile(r"^(?:node|nodejs)(?:\.exe)?$")


class JsPattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    call: tuple[str, ...] = ()
    argument_from: tuple[str, ...] = ()
    argument_text: tuple[str, ...] = ()
    string: tuple[str, ...] = ()
    file_string: tuple[str, ...] = ()
    scope: Literal["any", "top", "import"] = "any"

    @model_validator(mode="after")
    def _coherent(self) -> JsPattern:
        if not self.call and not self.string:
            raise ValueError("a pattern needs `call` or `string`")
        if (self.argument_from or self.argument_text or self.scope != "any") and not self.call:
            raise ValueError("`argument_from`, `argument_text` and `scope` need `call`")
        check_regexes([*self.string, *self.file_string, *self.argument_text])
        return self


class JsMatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    any_of: tuple[JsPattern, ...] = ()
    matcher: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> JsMatch:
        if bool(self.any_of) == (self.matcher is not None):
            raise ValueError("give either `any_of` patterns or a `matcher`")
        if self.matcher is not None and self.matcher not in JS_MATCHERS:
            raise ValueError(f"no js matcher named {self.matcher!r}")
        return self


def _names(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)) if patterns else None


def _any(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@dataclass(frozen=True)
class _Pattern:
    calls: re.Pattern[str] | None
    sources: re.Pattern[str] | None
    argument_text: re.Pattern[str] | None
    strings: re.Pattern[str] | None
    file_strings: re.Pattern[str] | None
    scope: str

    @classmethod
    def compile(cls, pattern: JsPattern) -> _Pattern:
        return cls(
            _names(pattern.call),
            _names(pattern.argument_from),
            _any(pattern.argument_text),
            _any(pattern.string),
            _any(pattern.file_string),
            pattern.scope,
        )

    def nodes(self, facts: JsFacts, install_time: bool = False) -> Iterator[Node]:
        if self.file_strings is not None and not any(
            self.file_strings.search(s.value) for s in facts.strings
        ):
            return
        if self.calls is None:
            if self.strings is not None:
                yield from (s.node for s in facts.strings if self.strings.search(s.value))
            return
        tainted = _tainted(facts, self.sources) if self.sources is not None else set()
        holding = names_holding(facts, self.strings) if self.strings is not None else frozenset()
        on_import = {c.name for c in facts.calls if c.named_scope is None and c.name}
        for call in facts.calls:
            if call.name is None or not self.calls.match(call.name):
                continue
            if self.scope == "top" and call.scope != -1:
                continue
            deferred = call.named_scope is not None and call.named_scope not in on_import
            if self.scope == "import" and not install_time and deferred:
                continue
            if self.sources is not None and not _fed(facts, call.args, self.sources, tainted):
                continue
            if self.argument_text is not None and (
                call.args is None or not self.argument_text.search(facts.text(call.args))
            ):
                continue
            if self.strings is not None and not has_string(facts, call.node, self.strings, holding):
                continue
            yield call.node


def _fed(facts: JsFacts, node: Node | None, sources: re.Pattern[str], tainted: set[str]) -> bool:
    if node is None:
        return False
    if tainted and facts.identifiers_in(node) & tainted:
        return True
    return any(c.name is not None and sources.match(c.name) for c in facts.calls_within(node))


def _tainted(facts: JsFacts, sources: re.Pattern[str]) -> set[str]:
    tainted: set[str] = set()
    for _ in range(8):
        grown = False
        for names, value in facts.assignments:
            if not names <= tainted and _fed(facts, value, sources, tainted):
                tainted |= names
                grown = True
        if not grown:
            break
    return tainted


@dataclass(frozen=True)
class _Rule:
    spec: RuleSpec
    paths: re.Pattern[str]
    patterns: tuple[_Pattern, ...]
    matcher: JsMatcher | None


def _compile(spec: RuleSpec) -> _Rule:
    match = JsMatch.model_validate(spec.match)
    patterns = tuple(_Pattern.compile(p) for p in match.any_of)
    matcher = JS_MATCHERS[match.matcher] if match.matcher is not None else None
    return _Rule(spec, compile_globs(spec.paths), patterns, matcher)


class JsEngine:
    def validate(self, spec: RuleSpec) -> None:
        JsMatch.model_validate(spec.match)

    def scan(
        self, files: Sequence[TreeFile], specs: Sequence[RuleSpec], context: ScanContext
    ) -> EngineResult:
        rules = [_compile(spec) for spec in specs]
        result = EngineResult()
        counts = {"parsed": 0, "with syntax errors": 0, "too large": 0, "timed out": 0}
        parser: JsParser | None = None
        query: Query | None = None
        modules: list[tuple[JsModule, list[_Rule]]] = []
        too_large: list[str] = []
        for tree_file in files:
            wanted = [rule for rule in rules if rule.paths.match(tree_file.member_path)]
            if tree_file.file_type != "javascript" or not wanted:
                continue
            source = read_capped(tree_file, MAX_JS_BYTES)
            if source is None:
                counts["too large"] += 1
                too_large.append(tree_file.path)
                continue
            if parser is None or query is None:
                parser = JsParser()
                query = make_query(parser)
            facts = collect_js_facts(parser, query, source)
            if facts is None:
                counts["timed out"] += 1
                continue
            counts["parsed"] += 1
            counts["with syntax errors"] += facts.has_error
            modules.append((JsModule(tree_file.path, tree_file.member_path, facts), wanted))
        package = JsPackage([module for module, _ in modules], install_scripts(files))
        for module, wanted in modules:
            result.hits.extend(_hits(wanted, module, package))
        result.notes.append("js files: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        if too_large:
            result.notes.append(
                f"js files over {MAX_JS_BYTES >> 20} MiB, text rules only: " + listed(too_large)
            )
        return result


def _hits(rules: Sequence[_Rule], module: JsModule, package: JsPackage) -> Iterator[Hit]:
    facts = module.facts
    for rule in rules:
        found: dict[int, Node] = {}
        install_time = module.member_path in package.install_scripts
        for pattern in rule.patterns:
            for node in pattern.nodes(facts, install_time):
                found.setdefault(node.start_point[0] + 1, node)
        if rule.matcher is not None:
            for node in rule.matcher(module, package):
                found.setdefault(node.start_point[0] + 1, node)
        for line, node in sorted(found.items()):
            yield Hit(rule.spec.id, module.path, line, cap_snippet(facts.text(node)))


def install_scripts(files: Sequence[TreeFile]) -> frozenset[str]:
    """Member paths of JavaScript files that package.json lifecycle scripts run."""
    found: set[str] = set()
    for tree_file in files:
        parts = tree_file.member_path.split("/")
        if parts[-1] != "package.json" or len(parts) > 2:
            continue
        raw = read_capped(tree_file, MAX_MANIFEST_BYTES)
        scripts = load_scripts(raw) if raw is not None else None
        root = "/".join(parts[:-1])
        for name in _INSTALL_SCRIPTS:
            command = (scripts or {}).get(name)
            if command is not None:
                found |= {f"{root}/{path}" if root else path for path in _node_files(command)}
    return frozenset(found)


def _node_files(command: str) -> Iterator[str]:
    for part in re.split(r"&&|\|\||;|\|", command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        if len(words) >= 2 and _NODE_FILE.match(words[0]) and not words[1].startswith("-"):
            yield words[1].removeprefix("./")
