"""The import phase's program: import a package's top-level modules, in *its* interpreter.

    python -I import_driver.py SETTLE_SECONDS [--path DIR]... MODULE...

Each ``--path`` goes in front of ``sys.path`` (an sdist's tree when its build failed).
One ``packguard:`` line per module goes to stderr. Threads the package started get the
settle window, then exit handlers run and the process leaves with 0, whatever the package
did. Standard library only.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import sys
import threading
import time
from collections.abc import Sequence


def parse(argv: Sequence[str]) -> tuple[float, list[str], list[str]]:
    settle = float(argv[0]) if argv else 0.0
    paths: list[str] = []
    modules: list[str] = []
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--path":
            paths.append(next(rest, ""))
        else:
            modules.append(arg)
    return settle, [p for p in paths if p], modules


def import_all(modules: Sequence[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
            message = f"packguard: imported {name}"
        except BaseException as error:  # SystemExit, KeyboardInterrupt: all of it
            message = f"packguard: import {name} failed: {type(error).__name__}: {error}"
        print(message[:500], file=sys.stderr, flush=True)


def settle(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))


def main(argv: Sequence[str]) -> None:
    seconds, paths, modules = parse(argv)
    sys.path[:0] = paths
    import_all(modules)
    settle(seconds)
    with contextlib.suppress(BaseException):  # the package's failure, not ours
        atexit._run_exitfuncs()  # payloads hide in exit handlers too
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
