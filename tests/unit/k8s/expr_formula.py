"""Evaluates the subset of expr-lang (KEDA's scalingModifiers language) our formula uses:
``let`` bindings, ``?:``, comparisons, arithmetic, parentheses, calls to ceil/floor/min/max.
Enough to check the formula against packguard.scheduler.scaling in a unit test."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_]\w*)|(<=|>=|==|!=|[-+*/()<>?:;,=]))")
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "ceil": math.ceil,
    "floor": math.floor,
    "min": min,
    "max": max,
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def evaluate(formula: str, variables: Mapping[str, float]) -> float:
    return _Parser(formula, dict(variables)).run()


class _Parser:
    def __init__(self, text: str, variables: dict[str, float]) -> None:
        self._tokens = self._lex(text)
        self._pos = 0
        self._vars = variables

    @staticmethod
    def _lex(text: str) -> list[str]:
        tokens, pos = [], 0
        while pos < len(text.rstrip()):
            match = _TOKEN.match(text, pos)
            if not match:
                raise SyntaxError(f"unexpected {text[pos : pos + 10]!r}")
            tokens.append(next(group for group in match.groups() if group is not None))
            pos = match.end()
        return tokens

    def run(self) -> float:
        value = self._program()
        if self._pos != len(self._tokens):
            raise SyntaxError(f"trailing {self._tokens[self._pos :]}")
        return value

    def _peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise SyntaxError(f"expected {expected!r}, got {token!r}")
        self._pos += 1
        return token

    def _program(self) -> float:
        while self._peek() == "let":
            self._take("let")
            name = self._take()
            self._take("=")
            self._vars[name] = self._ternary()
            self._take(";")
        return self._ternary()

    def _ternary(self) -> float:
        condition = self._comparison()
        if self._peek() != "?":
            return condition
        self._take("?")
        when_true = self._ternary()
        self._take(":")
        when_false = self._ternary()
        return when_true if condition else when_false

    def _comparison(self) -> float:
        left = self._sum()
        operator = self._peek()
        if operator in _COMPARE:
            self._take()
            return float(_COMPARE[operator](left, self._sum()))
        return left

    def _sum(self) -> float:
        value = self._product()
        while self._peek() in {"+", "-"}:
            value = value + self._product() if self._take() == "+" else value - self._product()
        return value

    def _product(self) -> float:
        value = self._atom()
        while self._peek() in {"*", "/"}:
            value = value * self._atom() if self._take() == "*" else value / self._atom()
        return value

    def _atom(self) -> float:
        token = self._take()
        if token == "(":
            value = self._ternary()
            self._take(")")
            return value
        if token == "-":
            return -self._atom()
        if token[0].isdigit():
            return float(token)
        if self._peek() == "(":
            self._take("(")
            args = [self._ternary()]
            while self._peek() == ",":
                self._take(",")
                args.append(self._ternary())
            self._take(")")
            return float(_FUNCTIONS[token](*args))
        return self._vars[token]
