"""bench/chaos/audit.py: what counts as lost, duplicated, uncategorized or stray."""

from __future__ import annotations

from bench.chaos.audit import Evidence, Observed, TaskRow, audit_run
from bench.chaos.plan import Expectation, Submission, TaskKind

PURL = "pkg:npm/chaos-noop-1@1.0.0"
KEY = "reports/npm/chaos-noop-1/1.0.0/t1.json"


def _submission(
    purl: str = PURL, kind: TaskKind = "noop", key: str = "k1", expect: Expectation = "completed"
) -> Submission:
    return Submission(0, purl, kind, key, 0.0, expect=expect)


def _row(
    task_id: str = "t1",
    status: str = "completed",
    *,
    purl: str = PURL,
    category: str | None = None,
    key: str | None = "k1",
    version: str | None = "noop",
) -> TaskRow:
    report_key = KEY if status == "completed" else None
    return TaskRow(task_id, purl, status, category, key, report_key, version)


def _evidence(
    rows: list[TaskRow],
    results: dict[str, int] | None = None,
    objects: dict[str, list[str]] | None = None,
) -> Evidence:
    return Evidence(
        rows=rows,
        results={"t1": 1} if results is None else results,
        report_objects={"t1": [KEY]} if objects is None else objects,
    )


def test_audit_run_completed_once_everywhere_passes() -> None:
    audit = audit_run([Observed(_submission(), frozenset({"t1"}))], _evidence([_row()]))
    assert audit.passed
    assert (audit.submitted, audit.completed, audit.failed) == (1, 1, 0)
    assert audit.completed_by == {"noop": 1}
    assert audit.line() == "chaos: submitted=1 completed=1 failed=0 lost=0 duplicated=0"


def test_audit_run_real_analysis_counts_for_the_sandbox_runners() -> None:
    observed = [Observed(_submission(kind="real"), frozenset({"t1"}))]
    audit = audit_run(observed, _evidence([_row(version="0.1.0")]))
    assert audit.completed_by == {"sandbox": 1}


def test_audit_run_two_task_ids_for_one_idempotency_key_is_duplicated() -> None:
    observed = [Observed(_submission(), frozenset({"t1", "t2"}))]
    rows = [_row(), _row("t2", purl="pkg:npm/other@1.0.0", key=None)]
    audit = audit_run(observed, _evidence(rows))
    assert audit.duplicated == {PURL: "the client was answered 2 task ids"}
    assert not audit.passed


def test_audit_run_second_row_for_the_purl_is_duplicated() -> None:
    rows = [_row(), _row("t2", status="queued", key=None)]
    audit = audit_run([Observed(_submission(), frozenset({"t1"}))], _evidence(rows))
    assert audit.duplicated == {PURL: "2 task rows for the purl"}


def test_audit_run_second_report_object_is_duplicated() -> None:
    objects = {"t1": [KEY, "reports/npm/chaos-noop-1/other/t1.json"]}
    audit = audit_run(
        [Observed(_submission(), frozenset({"t1"}))], _evidence([_row()], None, objects)
    )
    assert audit.duplicated == {PURL: "2 report objects"}


def test_audit_run_not_final_or_missing_row_is_lost() -> None:
    observed = [
        Observed(_submission(), frozenset({"t1"})),
        Observed(_submission("pkg:pypi/gone@1", key="k2"), frozenset({"t9"})),
    ]
    audit = audit_run(observed, _evidence([_row(status="queued")], {}, {}))
    assert audit.lost == {PURL: "still queued", "pkg:pypi/gone@1": "no task row"}
    assert audit.line().endswith("lost=2 duplicated=0")


def test_audit_run_completed_without_result_or_report_is_lost() -> None:
    observed = [Observed(_submission(), frozenset({"t1"}))]
    no_result = audit_run(observed, _evidence([_row()], results={}))
    no_object = audit_run(observed, _evidence([_row()], objects={}))
    assert no_result.lost == {PURL: "completed without a results row"}
    assert no_object.lost == {PURL: "completed without a report object"}


def test_audit_run_cancelled_though_nobody_cancelled_is_lost() -> None:
    audit = audit_run(
        [Observed(_submission(), frozenset({"t1"}))], _evidence([_row(status="cancelled")], {}, {})
    )
    assert audit.lost == {PURL: "cancelled, though nobody cancelled it"}


def test_audit_run_failure_without_category_fails_the_run() -> None:
    observed = [Observed(_submission(), frozenset({"t1"}))]
    audit = audit_run(observed, _evidence([_row(status="failed")], {}, {}))
    assert audit.uncategorized == [PURL]
    assert audit.failures == {"noop/(none)": 1}
    assert audit.unexpected == {PURL: "failed"}
    assert not audit.passed


def test_audit_run_categorized_expected_failure_passes() -> None:
    observed = [Observed(_submission(kind="real", expect="failed"), frozenset({"t1"}))]
    audit = audit_run(observed, _evidence([_row(status="failed", category="not_found")], {}, {}))
    assert audit.passed
    assert audit.failures == {"real/not_found": 1}
    assert not audit.unexpected


def test_audit_run_report_of_a_failed_task_is_stray() -> None:
    observed = [Observed(_submission(), frozenset({"t1"}))]
    audit = audit_run(observed, _evidence([_row(status="failed", category="timeout")], {}))
    assert audit.stray_reports == [KEY]
    assert not audit.passed


def test_audit_run_unaccepted_submission_fails_the_run() -> None:
    audit = audit_run([Observed(_submission(), frozenset())], _evidence([], {}, {}))
    assert (audit.planned, audit.submitted, audit.unaccepted) == (1, 0, 1)
    assert not audit.passed
