"""Optional sampling profiles of the services while a benchmark loads them (py-spy).

``--profile DIR`` on a benchmark writes one collapsed-stack file per service
(``DIR/<service>.txt``, flamegraph.pl/speedscope input); ``summarize`` prints the
functions with the most samples, inclusive and on-CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from pathlib import Path


@contextlib.asynccontextmanager
async def py_spy(pids: Mapping[str, int], out_dir: Path | None) -> AsyncIterator[None]:
    """Record every process in ``pids`` while the block runs (nothing when no dir)."""
    tool = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if out_dir is None:
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    recorders = [
        await asyncio.create_subprocess_exec(
            tool,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--nonblocking",
            "--subprocesses",
            "--format",
            "raw",
            "--output",
            str(out_dir / f"{name}.txt"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]
    try:
        yield
    finally:
        for recorder in recorders:
            with contextlib.suppress(ProcessLookupError):
                recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for recorder in recorders:
            try:
                async with asyncio.timeout(30):
                    await recorder.wait()
            except TimeoutError:
                recorder.kill()
                await recorder.wait()


def summarize(path: Path, top: int = 25) -> str:
    """The ``top`` functions by inclusive and by own samples in a collapsed-stack file."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [_label(frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [f"{path.stem}: {total} samples"]
    lines += [f"  incl {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    lines += [f"  self {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def _label(frame: str) -> str:
    """``handle (packguard/scheduler/service.py:12)`` → ``handle (scheduler/service.py)``."""
    name, _, location = frame.partition(" (")
    path = location.rsplit(":", 1)[0]
    return f"{name} ({'/'.join(path.split('/')[-2:])})"


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(summarize(Path(argument)))
