"""Command line of the analyzer image; arguments as ``sandbox.analyzer_command`` builds them.

Exit codes: ``EXIT_OK`` (report written), ``EXIT_REJECTED`` (report written, input
refused, ``report.error`` says why), 2 for bad arguments, anything else is a crash.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from packguard.analyzer.analyze import ANALYZER_VERSION, AnalysisRequest, analyze
from packguard.analyzer.archive import ExtractLimits
from packguard.analyzer.dynamic.session import DynamicSettings, is_sandboxed
from packguard.analyzer.ruleset import load_rules
from packguard.analyzer.rulespec import ECOSYSTEMS
from packguard.common.report import AnalysisReport
from packguard.common.sandbox import EXIT_OK, EXIT_REJECTED, SCRATCH_DIR

_DEFAULT_LIMITS = ExtractLimits()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="packguard-analyzer", description="Analyse one package artifact (in the sandbox)."
    )
    parser.add_argument("--ecosystem", required=True, choices=ECOSYSTEMS)
    parser.add_argument("--name", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--output", required=True, type=Path, help="where to write report JSON")
    parser.add_argument("--static-only", action="store_true", help="skip dynamic phases")
    parser.add_argument("--scratch-dir", type=Path, default=Path(SCRATCH_DIR))
    parser.add_argument("--max-extract-bytes", type=int, default=_DEFAULT_LIMITS.max_total_bytes)
    parser.add_argument("--max-files", type=int, default=_DEFAULT_LIMITS.max_files)
    parser.add_argument("artifacts", nargs="+", type=Path, metavar="ARTIFACT")
    return parser


def write_report(report: AnalysisReport, output: Path) -> None:
    """Write the report where the runner reads it, never through a planted link.

    The dynamic phases ran package code as our own user (all its processes are dead by
    now). The runner's layout is a directory we cannot write holding one report file we
    own, so package code could not fill the runner's disk through it: that file is
    rewritten in place (the runner reads it once we have exited). Given a writable
    directory, whatever the package left at either path is removed and the report is
    created exclusively, then renamed over, so a reader never sees half a report.
    """
    if not os.access(output.parent, os.W_OK):
        with contextlib.suppress(OSError):
            output.chmod(0o600)  # the package, as its owner too, may have made it read-only
        with open(output, "w", encoding="utf-8", opener=_no_follow) as handle:
            handle.write(report.model_dump_json())
        return
    partial = output.with_name(f".{output.name}.partial")
    for path in (partial, output):
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
    with partial.open("x", encoding="utf-8") as handle:
        handle.write(report.model_dump_json())
    partial.replace(output)


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    limits = ExtractLimits(max_total_bytes=args.max_extract_bytes, max_files=args.max_files)
    request = AnalysisRequest(
        ecosystem=args.ecosystem,
        name=args.name,
        version=args.version,
        artifacts=tuple(args.artifacts),
        scratch_dir=args.scratch_dir,
        static_only=args.static_only,
        limits=limits,
        dynamic=DynamicSettings() if is_sandboxed() else None,
    )
    report = analyze(request, load_rules())
    write_report(report, args.output)
    # One JSON line for the runner's capped log excerpt; the report is the real output.
    event = {
        "event": "analysis_rejected" if report.error else "analysis_finished",
        "analyzer_version": ANALYZER_VERSION,
        "label": report.verdict.label,
        "score": report.verdict.score,
        "findings": len(report.findings),
        "error": report.error,
    }
    print(json.dumps(event), file=sys.stderr)
    return EXIT_REJECTED if report.error else EXIT_OK
