"""The contract between the runner and the analyzer image.

The runner bind-mounts the downloaded artifact read-only under ``INPUT_DIR`` and an
empty writable directory under ``OUTPUT_DIR``; the analyzer writes one
``AnalysisReport`` JSON document to ``OUTPUT_DIR/REPORT_FILENAME`` and exits with one
of the codes below. Anything else (no report, another exit code) is an analyzer crash.
"""

from __future__ import annotations

from collections.abc import Sequence

INPUT_DIR = "/sandbox/input"
OUTPUT_DIR = "/sandbox/output"
SCRATCH_DIR = "/sandbox/scratch"
REPORT_FILENAME = "report.json"

# The uid:gid analysis containers run as (nobody:nogroup on Debian).
SANDBOX_USER = "65534:65534"
# The container's only nameserver: the analyzer's loopback resolver, which answers every
# name with itself and records it (the container has no other network).
SINKHOLE_RESOLVER = "127.0.0.1"

EXIT_OK = 0
"""The report was written; the verdict is inside it."""
EXIT_REJECTED = 3
"""The input was refused (hostile or malformed archive); the report holds the reason."""


def analyzer_command(
    *,
    ecosystem: str,
    name: str,
    version: str,
    artifact_filenames: Sequence[str],
    static_only: bool = False,
) -> list[str]:
    """Arguments passed to the analyzer image's entrypoint."""
    command = [
        "--ecosystem",
        ecosystem,
        "--name",
        name,
        "--version",
        version,
        "--output",
        f"{OUTPUT_DIR}/{REPORT_FILENAME}",
    ]
    if static_only:
        command.append("--static-only")
    command.extend(f"{INPUT_DIR}/{filename}" for filename in artifact_filenames)
    return command
