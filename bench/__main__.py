"""Every benchmark in one run: ``make bench`` (``.venv/bin/python -m bench``).

    .venv/bin/python -m bench [--only control_plane,gateway,...] [--quick]

Runs each benchmark script as its own process (each starts and stops its own loopback
stack), in this order: the control plane against Celery and the bare redis-py ceiling,
the gateway alone, one report object's write and read, the backlog growth, the
per-phase analysis times of real packages and their stages through the whole pipeline,
and detection on the labelled corpus. Then it gathers their JSON results into
bench/results/latest.json (with the machine, its load and the commit), prints one
summary table and draws the charts docs/performance.md shows (docs/img/bench_*.png).
``--quick`` shrinks every run (fewer tasks, smaller backlogs, fewer packages) to check
the harness, not to publish figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.charts import draw_all
from bench.loopback import round_trip
from bench.summary import print_summary

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
LATEST = RESULTS / "latest.json"


@dataclass(frozen=True, slots=True)
class Bench:
    name: str
    module: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    result_file: str


BENCHES = (
    Bench(
        "control_plane",
        "bench.control_plane",
        ("--tasks", "2000", "--runners", "1,2,4"),
        ("--tasks", "300", "--runners", "1,2"),
        "control_plane.json",
    ),
    Bench("gateway", "bench.gateway", (), ("--count", "500"), "gateway.json"),
    Bench("s3_put", "bench.s3_put", (), ("--puts", "300", "--rounds", "1"), "s3_put.json"),
    Bench(
        "growth",
        "bench.growth",
        ("--sizes", "10000,100000,1000000"),
        ("--sizes", "10000", "--samples", "50"),
        "growth.json",
    ),
    Bench(
        "analysis",
        "bench.analysis_phases",
        ("--count", "40"),
        ("--count", "4", "--baseline-runs", "2"),
        "analysis_durations.json",
    ),
    Bench(
        "analysis_pipeline",
        "bench.analysis_pipeline",
        ("--count", "10"),
        ("--count", "2"),
        "analysis_pipeline.json",
    ),
    Bench("detection", "bench.detection", ("--real", "--guarddog"), (), "detection.json"),
)


def run_bench(bench: Bench, *, quick: bool) -> dict[str, Any]:
    """Run one script; its JSON result, or the reason it has none."""
    args = bench.quick_args if quick else bench.args
    command = [sys.executable, "-m", bench.module, *args]
    print(f"\n=== {bench.name}: {' '.join(command[1:])}", flush=True)
    result_path = RESULTS / bench.result_file
    result_path.unlink(missing_ok=True)
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO, check=False)
    seconds = round(time.monotonic() - started, 1)
    if completed.returncode != 0 or not result_path.exists():
        return {"error": f"exit status {completed.returncode}", "seconds": seconds}
    return {"seconds": seconds, "result": json.loads(result_path.read_text())}


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "commit": commit or None,
        "loopback": round_trip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", help="comma-separated names: " + ",".join(b.name for b in BENCHES)
    )
    parser.add_argument("--quick", action="store_true", help="small runs: check the harness")
    parser.add_argument("--charts", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args()
    chosen = set(args.only.split(",")) if args.only else {b.name for b in BENCHES}
    unknown = chosen - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    latest: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine_before": machine(),
        "benches": {},
    }
    for bench in BENCHES:
        if bench.name in chosen:
            latest["benches"][bench.name] = run_bench(bench, quick=args.quick)
    latest["machine_after"] = machine()
    LATEST.write_text(json.dumps(latest, indent=2) + "\n")
    charts = draw_all(latest, args.charts)
    print_summary(latest)
    print(f"\nwrote {LATEST.relative_to(REPO)} and {', '.join(str(c) for c in charts)}")
    failed = [name for name, entry in latest["benches"].items() if "error" in entry]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
