"""Host name, user name or working directory sent to a hard-coded place (recon)."""

from __future__ import annotations

from collections.abc import Iterator

from packguard.analyzer.engines.python_facts import PyModule, PyPackage
from packguard.analyzer.engines.python_flow import HOST_DETAILS, leaks


def lines(module: PyModule, package: PyPackage) -> Iterator[int]:
    return leaks(module, package, HOST_DETAILS)
