"""``python -m bench.chaos``: one chaos run; prints what happened, ends with the pass line.

Exit status 0 when the run passes (see ``bench.chaos.audit``), 1 when it does not, 2 when
the harness itself failed. The last line is always
``chaos: submitted=N completed=C failed=F lost=L duplicated=D`` when the run finished.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.chaos.audit import samples
from bench.chaos.harness import REPO, ChaosReport, run_chaos
from bench.chaos.plan import ChaosPlan

RESULTS = REPO / "bench" / "results" / "chaos.json"


def main() -> int:
    defaults = ChaosPlan()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--noop-tasks", type=int, default=defaults.noop_tasks)
    parser.add_argument("--real-tasks", type=int, default=defaults.real_tasks)
    parser.add_argument("--keep", action="store_true", help="keep the logs even if it passes")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()
    plan = ChaosPlan(seed=args.seed, noop_tasks=args.noop_tasks, real_tasks=args.real_tasks)
    root = Path(tempfile.mkdtemp(prefix="packguard-chaos-"))
    print(
        f"chaos run (seed {plan.seed}): {plan.noop_tasks} no-op + {plan.real_tasks} real tasks, "
        f"{plan.noop_runners} no-op + {plan.sandbox_runners} sandbox runners; logs in "
        f"{root / 'logs'}",
        flush=True,
    )
    try:
        report = asyncio.run(_run(plan, root))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print(f"chaos: stopped; everything it started is stopped; logs in {root / 'logs'}")
        return 2
    except Exception as exc:
        print(f"chaos: harness failed: {exc!r}; logs in {root / 'logs'}")
        return 2
    _print(report)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(_as_json(report), indent=2) + "\n")
    if report.audit.passed and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"logs: {root / 'logs'}")
    print(report.audit.line())
    return 0 if report.audit.passed else 1


async def _run(plan: ChaosPlan, root: Path) -> ChaosReport:
    # SIGTERM (a CI timeout, a test's cleanup) unwinds like Ctrl-C: everything is stopped.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    return await run_chaos(plan, root)


def _print(report: ChaosReport) -> None:
    audit = report.audit
    print(f"kills: {_pairs(report.kills)}")
    print(f"crashes (exits nobody asked for, restarted): {_pairs(report.crashes) or 'none'}")
    print(f"client retries: {report.client_retries} ({_pairs(report.client_outcomes)})")
    print(f"completed by runner kind: {_pairs(audit.completed_by)}")
    print(f"failures by kind/category: {_pairs(audit.failures) or 'none'}")
    if audit.unexpected:
        print(f"unexpected outcomes: {_pairs(audit.unexpected)}")
    print(f"not final at the settle deadline: {report.not_final_at_deadline}")
    print(
        f"untracked task rows: {audit.untracked_rows}; unaccepted submissions: {audit.unaccepted}"
    )
    for title, problems in (("lost", audit.lost), ("duplicated", audit.duplicated)):
        for line in samples(problems):
            print(f"{title}: {line}")
    for purl in audit.uncategorized[:10]:
        print(f"failed without a category: {purl}")
    for key in audit.stray_reports[:10]:
        print(f"stray report object: {key}")
    print(f"seconds: {_pairs(report.seconds)}")
    print("PASS" if audit.passed else "FAIL")


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(values.items()))


def _as_json(report: ChaosReport) -> dict[str, Any]:
    audit = report.audit
    return {
        "plan": dataclasses.asdict(report.plan),
        "line": audit.line(),
        "passed": audit.passed,
        "completed_by": dict(audit.completed_by),
        "failures": dict(audit.failures),
        "lost": audit.lost,
        "duplicated": audit.duplicated,
        "uncategorized": audit.uncategorized,
        "stray_reports": audit.stray_reports,
        "unexpected": audit.unexpected,
        "kills": report.kills,
        "crashes": report.crashes,
        "client_retries": report.client_retries,
        "client_outcomes": report.client_outcomes,
        "events": report.events,
        "seconds": report.seconds,
    }


if __name__ == "__main__":
    sys.exit(main())
