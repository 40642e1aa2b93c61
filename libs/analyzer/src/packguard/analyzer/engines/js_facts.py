"""What the ``js`` engine needs to know about one JavaScript file, from tree-sitter.

tree-sitter parses in-process and recovers from errors, so minified, truncated or
deliberately broken files still yield their calls and strings. One query collects the
interesting nodes in C; Python only resolves names over what it captured.

Names are resolved through ``require``/``import`` and simple aliases (``const cp =
require('child_process')``, ``const {exec} = require('child_process')``, ``const e =
eval``): ``cp.exec`` is ``child_process.exec``. ``globalThis.``/``window.``/``global.``
prefixes are dropped; an unresolvable receiver is ``?``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor

from packguard.analyzer.engines.js_parser import JsParser

_QUERY = """
(call_expression function: (_) @callee arguments: (_) @args) @call
(new_expression constructor: (_) @callee arguments: (_)? @args) @new
(string) @string
(template_string) @template
(variable_declarator name: (_) @target value: (_) @value) @assign
(assignment_expression left: (_) @target right: (_) @value) @assign
(augmented_assignment_expression left: (_) @target right: (_) @value) @assign
(import_statement) @import
(function_declaration) @function
(generator_function_declaration) @function
(function_expression) @function
(arrow_function) @function
(method_definition) @function
(return_statement (_) @returned) @return
"""
_GLOBAL_PREFIXES = ("globalThis.", "global.", "window.", "self.")
_IDENTIFIER = re.compile(rb"[A-Za-z_$][\w$]*")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|[0-7]{1,3}|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
UNKNOWN_RECEIVER = "?"


def make_query(parser: JsParser) -> Query:
    return Query(parser.language, _QUERY)


@dataclass(frozen=True)
class JsCall:
    node: Node
    name: str | None
    """The callee's qualified name (``child_process.exec``), ``?.method`` if unknown."""
    args: Node | None
    is_new: bool
    scope: int
    """Start byte of the innermost enclosing function, -1 at top level."""
    named_scope: str | None = None
    """Name of the innermost enclosing named function or method (callbacks and IIFEs do
    not count): ``None`` when the call runs as the file is required."""

    @property
    def line(self) -> int:
        return self.node.start_point[0] + 1

    @property
    def start(self) -> int:
        return self.node.start_byte


@dataclass(frozen=True)
class JsString:
    node: Node
    value: str

    @property
    def line(self) -> int:
        return self.node.start_point[0] + 1


@dataclass
class JsFacts:
    source: bytes
    aliases: dict[str, str] = field(default_factory=dict)
    calls: list[JsCall] = field(default_factory=list)
    strings: list[JsString] = field(default_factory=list)
    assignments: list[tuple[frozenset[str], Node]] = field(default_factory=list)
    """Assigned names as keys (see ``key``) and the value; ``push``/``add`` count too."""
    locals: dict[int, set[str]] = field(default_factory=dict)
    """Names declared (``var``/``let``/``const``, parameters) in each function, by the
    function's start byte."""
    returns: list[tuple[str, Node]] = field(default_factory=list)
    """(enclosing function's name, returned expression)."""
    has_error: bool = False
    memo: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per-file results computed once (names holding a pattern, tainted names)."""
    _call_starts: list[int] = field(default_factory=list)
    _identifiers: dict[int, frozenset[str]] = field(default_factory=dict)
    _string_starts: list[int] = field(default_factory=list)

    def calls_within(self, node: Node) -> Iterator[JsCall]:
        index = bisect.bisect_left(self._call_starts, node.start_byte)
        while index < len(self.calls) and self.calls[index].start < node.end_byte:
            yield self.calls[index]
            index += 1

    def strings_within(self, node: Node) -> Iterator[JsString]:
        index = bisect.bisect_left(self._string_starts, node.start_byte)
        while index < len(self.strings) and self.strings[index].node.start_byte < node.end_byte:
            yield self.strings[index]
            index += 1

    def key(self, scope: int, name: str) -> str:
        """Where a name read in function ``scope`` lives: that function's declaration,
        else the file's top level (``a`` in two minified functions are two names)."""
        base = name.split(".", 1)[0]
        if scope >= 0 and base in self.locals.get(scope, ()):
            return f"{scope}:{name}"
        return f"-1:{name}"

    def identifiers_in(self, node: Node) -> set[str]:
        """Keys of the identifiers in ``node``, resolved from its enclosing function."""
        cached = self._identifiers.get(node.id)
        if cached is None:
            raw = self.source[node.start_byte : node.end_byte]
            scope = scope_of(node)
            names = {match.decode("ascii") for match in _IDENTIFIER.findall(raw)}
            cached = frozenset(self.key(scope, name) for name in names)
            self._identifiers[node.id] = cached
        return set(cached)

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")


_FUNCTION_TYPES = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "function_expression",
        "arrow_function",
        "method_definition",
    }
)


def scope_of(node: Node) -> int:
    """Start byte of the innermost function around ``node`` (-1 at top level)."""
    parent = node.parent
    while parent is not None and parent.type not in _FUNCTION_TYPES:
        parent = parent.parent
    return parent.start_byte if parent is not None else -1


def decode_string(node: Node, source: bytes) -> str:
    """The value of a string or template literal (substitutions become ``${}``)."""
    raw = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
    if node.type == "template_string":
        parts = []
        for child in node.children:
            if child.type == "string_fragment" or child.type == "escape_sequence":
                parts.append(source[child.start_byte : child.end_byte].decode("utf-8", "replace"))
            elif child.type == "template_substitution":
                parts.append("${}")
        raw = "`" + "".join(parts) + "`"
    return _ESCAPE.sub(_unescape, raw[1:-1]) if "\\" in raw else raw[1:-1]


def _unescape(match: re.Match[str]) -> str:
    body = match.group(1)
    if body[0] == "x" and len(body) == 3:
        return chr(int(body[1:], 16))
    if body[0] == "u" and len(body) > 1:
        code = int(body[1:].strip("{}"), 16)
        return chr(code) if code <= 0x10FFFF else ""
    if body[0] in "1234567" or (body[0] == "0" and len(body) > 1):
        return chr(int(body, 8))
    return _SIMPLE_ESCAPES.get(body, body)


def qualified_name(node: Node | None, aliases: dict[str, str], source: bytes) -> str | None:
    parts: list[str] = []
    base = UNKNOWN_RECEIVER
    while node is not None:
        kind = node.type
        if kind == "member_expression":
            prop = node.child_by_field_name("property")
            parts.append(_text(prop, source) if prop is not None else UNKNOWN_RECEIVER)
            node = node.child_by_field_name("object")
        elif kind == "subscript_expression":
            index = node.child_by_field_name("index")
            if index is not None and index.type == "string":
                parts.append(decode_string(index, source))
            else:
                parts.append(UNKNOWN_RECEIVER)
            node = node.child_by_field_name("object")
        elif kind in ("parenthesized_expression", "sequence_expression", "await_expression"):
            # ``(0, eval)(x)`` calls eval; the last expression of a sequence is its value.
            node = node.named_children[-1] if node.named_children else None
        elif kind == "identifier":
            text = _text(node, source)
            base = aliases.get(text, text)
            break
        elif kind == "call_expression" and (module := required_module(node, source)):
            base = module
            break
        else:
            break
    if base == UNKNOWN_RECEIVER and not parts:
        return None
    name = ".".join([base, *reversed(parts)])
    for prefix in _GLOBAL_PREFIXES:
        name = name.removeprefix(prefix)
    return name


def required_module(call: Node, source: bytes) -> str | None:
    """``m`` for ``require('m')`` or ``import('m')``."""
    function = call.child_by_field_name("function")
    if function is None or _text(function, source) not in ("require", "import"):
        return None
    arguments = call.child_by_field_name("arguments")
    first = arguments.named_children[0] if arguments and arguments.named_children else None
    if first is None or first.type != "string":
        return None
    return decode_string(first, source).removeprefix("node:")


def _is_named(function: Node) -> bool:
    return function.type in ("function_declaration", "method_definition")


def _function_name(function: Node, source: bytes) -> str:
    name = function.child_by_field_name("name")
    return _text(name, source) if name is not None else UNKNOWN_RECEIVER


def _text(node: Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def collect_js_facts(parser: JsParser, query: Query, source: bytes) -> JsFacts | None:
    """``None`` when the parser gave up on the file (see ``JsParser``)."""
    tree = parser.parse(source)
    if tree is None:
        return None
    root = tree.root_node
    facts = JsFacts(source, has_error=root.has_error)
    matches = QueryCursor(query).matches(root)
    calls: list[tuple[Node, Node, Node | None, bool]] = []
    functions: list[Node] = []
    for _, captures in matches:
        if "call" in captures or "new" in captures:
            node = (captures.get("call") or captures["new"])[0]
            args = captures.get("args", [None])[0]
            calls.append((node, captures["callee"][0], args, "new" in captures))
            _record_mutation(facts, captures["callee"][0], args)
        elif "string" in captures or "template" in captures:
            node = (captures.get("string") or captures["template"])[0]
            facts.strings.append(JsString(node, decode_string(node, source)))
        elif "assign" in captures:
            assign = captures["assign"][0]
            _record_assignment(facts, captures["target"][0], captures["value"][0])
            if assign.type == "variable_declarator":
                _declare(facts, captures["target"][0], scope_of(assign))
        elif "import" in captures:
            _record_import(facts, captures["import"][0])
        elif "function" in captures:
            function = captures["function"][0]
            functions.append(function)
            parameters = function.child_by_field_name("parameters")
            if parameters is None and function.type == "arrow_function":
                parameters = function.child_by_field_name("parameter")
            if parameters is not None:
                raw = source[parameters.start_byte : parameters.end_byte]
                names = {m.decode("ascii") for m in _IDENTIFIER.findall(raw)}
                facts.locals.setdefault(function.start_byte, set()).update(names)
        elif "return" in captures:
            _record_return(facts, captures["return"][0], captures["returned"][0])
    _resolve_calls(facts, calls, functions)
    # Names become keys only now that every function's declarations are known.
    facts.assignments = [
        (frozenset(facts.key(scope_of(value), name) for name in names), value)
        for names, value in facts.assignments
    ]
    facts.strings.sort(key=lambda s: s.node.start_byte)
    facts._string_starts = [s.node.start_byte for s in facts.strings]
    return facts


def _target_names(target: Node, source: bytes) -> Iterable[str]:
    if target.type in ("identifier", "shorthand_property_identifier_pattern"):
        yield _text(target, source)
    elif target.type == "member_expression":
        yield _text(target, source)
        base: Node | None = target
        while base is not None and base.type == "member_expression":
            base = base.child_by_field_name("object")
        if base is not None and base.type == "identifier":
            yield _text(base, source)  # ``report.x = secret`` taints ``report``
    elif target.type in ("object_pattern", "array_pattern"):
        for child in target.named_children:
            value = child.child_by_field_name("value") if child.type == "pair_pattern" else child
            if value is not None:
                yield from _target_names(value, source)


def _declare(facts: JsFacts, target: Node, scope: int) -> None:
    if scope >= 0:
        names = {n for n in _target_names(target, facts.source) if "." not in n}
        facts.locals.setdefault(scope, set()).update(names)


def _record_assignment(facts: JsFacts, target: Node, value: Node) -> None:
    source = facts.source
    names = frozenset(_target_names(target, source))
    if names:
        facts.assignments.append((names, value))
    if target.type == "identifier":
        if value.type in ("identifier", "member_expression", "call_expression"):
            name = (
                required_module(value, source)
                if value.type == "call_expression"
                else qualified_name(value, facts.aliases, source)
            )
            text = _text(target, source)
            if name is not None and name != text and not name.startswith(UNKNOWN_RECEIVER):
                facts.aliases[text] = name
    elif target.type == "object_pattern" and value.type == "call_expression":
        module = required_module(value, source)
        if module is None:
            return
        for child in target.named_children:
            if child.type == "shorthand_property_identifier_pattern":
                text = _text(child, source)
                facts.aliases[text] = f"{module}.{text}"
            elif child.type == "pair_pattern":
                key, alias = child.child_by_field_name("key"), child.child_by_field_name("value")
                if key is not None and alias is not None and alias.type == "identifier":
                    facts.aliases[_text(alias, source)] = f"{module}.{_text(key, source)}"


_MUTATORS = frozenset({"push", "unshift", "add", "set", "write", "append"})


def _record_mutation(facts: JsFacts, callee: Node, args: Node | None) -> None:
    """``found.push(secret)`` taints ``found`` like an assignment would."""
    if args is None or callee.type != "member_expression":
        return
    prop = callee.child_by_field_name("property")
    target = callee.child_by_field_name("object")
    if prop is None or target is None or target.type != "identifier":
        return
    if _text(prop, facts.source) in _MUTATORS:
        facts.assignments.append((frozenset({_text(target, facts.source)}), args))


def _record_import(facts: JsFacts, statement: Node) -> None:
    source = facts.source
    module_node = statement.child_by_field_name("source")
    if module_node is None:
        return
    module = decode_string(module_node, source).removeprefix("node:")
    for clause in statement.named_children:
        if clause.type != "import_clause":
            continue
        for child in clause.named_children:
            if child.type == "identifier":
                facts.aliases[_text(child, source)] = module
            elif child.type == "namespace_import":
                for name in child.named_children:
                    facts.aliases[_text(name, source)] = module
            elif child.type == "named_imports":
                for spec in child.named_children:
                    imported = spec.child_by_field_name("name")
                    alias = spec.child_by_field_name("alias") or imported
                    if imported is not None and alias is not None:
                        facts.aliases[_text(alias, source)] = f"{module}.{_text(imported, source)}"


def _record_return(facts: JsFacts, statement: Node, value: Node) -> None:
    """Only top-level function declarations: other files can call those by name."""
    node = statement.parent
    while node is not None and node.type not in _FUNCTION_TYPES:
        node = node.parent
    if node is None or node.type != "function_declaration":
        return
    parent = node.parent
    if parent is not None and parent.type == "export_statement":
        parent = parent.parent
    name = node.child_by_field_name("name")
    if name is not None and parent is not None and parent.type == "program":
        facts.returns.append((_text(name, facts.source), value))


def _resolve_calls(
    facts: JsFacts, calls: list[tuple[Node, Node, Node | None, bool]], functions: list[Node]
) -> None:
    calls.sort(key=lambda item: item[0].start_byte)
    functions.sort(key=lambda node: node.start_byte)
    open_functions: list[Node] = []
    index = 0
    for node, callee, args, is_new in calls:
        start = node.start_byte
        while index < len(functions) and functions[index].start_byte <= start:
            open_functions.append(functions[index])
            index += 1
        while open_functions and open_functions[-1].end_byte <= start:
            open_functions.pop()
        # Functions that closed before this call but sit below a still-open one.
        enclosing = [f for f in reversed(open_functions) if f.end_byte > start]
        scope = enclosing[0].start_byte if enclosing else -1
        named = next((_function_name(f, facts.source) for f in enclosing if _is_named(f)), None)
        name = qualified_name(callee, facts.aliases, facts.source)
        facts.calls.append(JsCall(node, name, args, is_new, scope, named))
    facts._call_starts = [call.start for call in facts.calls]
