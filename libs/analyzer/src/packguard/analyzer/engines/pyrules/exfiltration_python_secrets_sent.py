"""Credential files, token stores or the whole environment sent to a hard-coded place."""

from __future__ import annotations

from collections.abc import Iterator

from packguard.analyzer.engines.python_facts import PyModule, PyPackage
from packguard.analyzer.engines.python_flow import SECRETS, leaks


def lines(module: PyModule, package: PyPackage) -> Iterator[int]:
    return leaks(module, package, SECRETS)
