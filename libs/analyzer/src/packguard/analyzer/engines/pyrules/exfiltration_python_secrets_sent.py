"""Credential files, token stores or the whole environment sent to a hard-coded place.

It follows data across the package's modules, so the engine judges it once every module
was read (``python_leaks``); this names what counts as the sensitive data.
"""

from __future__ import annotations

from packguard.analyzer.engines.python_flow import SECRETS

KIND = SECRETS
