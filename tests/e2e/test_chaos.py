"""`make chaos` in CI: the whole chaos run, judged by its pass line.

The harness (``python -m bench.chaos``) starts its own stack and services, kills and
restarts them on schedule, audits PostgreSQL and S3 against what its clients were told,
and stops everything it started, also when it is stopped with SIGTERM.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest
from bench.chaos.plan import ChaosPlan

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

HARNESS_LIMIT_SECONDS = 600
"""The issue's bound; the harness bounds itself a little below it."""
TERMINATE_GRACE_SECONDS = 90
PASS_LINE = re.compile(
    r"^chaos: submitted=(?P<submitted>\d+) completed=(?P<completed>\d+) "
    r"failed=(?P<failed>\d+) lost=0 duplicated=0$"
)


# func_only: building the analyzer image (the fixture) is not the harness's time.
@pytest.mark.timeout(HARNESS_LIMIT_SECONDS + TERMINATE_GRACE_SECONDS + 30, func_only=True)
async def test_chaos_run_loses_and_duplicates_nothing(
    analyzer_image: str, repo_root: Path, tmp_path: Path
) -> None:
    # analyzer_image: built (or found) before the harness's clock starts.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.chaos",
        "--results",
        str(tmp_path / "chaos.json"),
        cwd=repo_root,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(HARNESS_LIMIT_SECONDS):
            output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.terminate()  # the harness unwinds and stops what it started
            try:
                async with asyncio.timeout(TERMINATE_GRACE_SECONDS):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    last = text.strip().splitlines()[-1]
    passed = PASS_LINE.match(last)
    assert passed is not None, text[-6000:]
    plan = ChaosPlan()
    assert int(passed["submitted"]) == plan.noop_tasks + plan.real_tasks
    assert int(passed["completed"]) + int(passed["failed"]) == int(passed["submitted"])
