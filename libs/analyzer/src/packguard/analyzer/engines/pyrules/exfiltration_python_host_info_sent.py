"""Host name, user name or working directory sent to a hard-coded place (recon).

It follows data across the package's modules, so the engine judges it once every module
was read (``python_leaks``); this names what counts as the sensitive data.
"""

from __future__ import annotations

from packguard.analyzer.engines.python_flow import HOST_DETAILS

KIND = HOST_DETAILS
