"""The contract between the runner and the analyzer image.

The runner bind-mounts the downloaded artifact read-only under ``INPUT_DIR`` and, under
``OUTPUT_DIR``, a directory the sandbox user cannot write into that holds one empty
``REPORT_FILENAME`` the sandbox user owns. The analyzer overwrites that file in place
with one ``AnalysisReport`` JSON document and exits with one of the codes below.
Anything else (no report, another exit code) is an analyzer crash.

Package code runs as the same user as the analyzer: the pre-created file is the only
thing on the runner's disk it can reach, and the container's file-size limit
(``RLIMIT_FSIZE``) caps it, so a package cannot fill the runner's disk through the
output mount. (Given a writable output directory, the analyzer still writes a new file
and renames it over the report.)
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
