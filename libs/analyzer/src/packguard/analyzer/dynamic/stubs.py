"""Stand-in programs for the download and remote-access tools the sandbox lacks.

A shell that cannot find ``curl`` prints "not found" without ever calling ``execve``, so
the trace would not show that the package tried. Each stub is a two-line script at the
end of ``PATH`` (a real tool, if the image had one, still wins): running it is an
``execve`` with the full command line, then it fails the way a missing program does.
"""

from __future__ import annotations

from pathlib import Path

STUBBED_TOOLS = (
    "curl", "wget", "nc", "ncat", "netcat", "socat", "telnet", "ftp", "tftp",
    "ssh", "scp", "sftp", "powershell", "pwsh",
)  # fmt: skip
NOT_FOUND = 127
_SCRIPT = '#!/bin/sh\necho "${{0##*/}}: not available in the sandbox" >&2\nexit {code}\n'


def write_stubs(directory: Path) -> Path:
    """Create ``directory`` with one executable stub per tool; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    for tool in STUBBED_TOOLS:
        stub = directory / tool
        stub.write_text(_SCRIPT.format(code=NOT_FOUND), encoding="ascii")
        stub.chmod(0o755)
    return directory
