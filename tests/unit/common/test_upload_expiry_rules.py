"""The uploads' lifecycle rule merged into a bucket's other rules."""

from __future__ import annotations

from packguard.common.uploads import EXPIRY_RULE_ID, with_upload_expiry

OPERATORS = {"ID": "keep-logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled"}


def _ours(days: int) -> dict[str, object]:
    return {
        "ID": EXPIRY_RULE_ID,
        "Filter": {"Prefix": "uploads/"},
        "Status": "Enabled",
        "Expiration": {"Days": days},
    }


def test_the_rule_is_added_after_the_operators_rules() -> None:
    assert with_upload_expiry([OPERATORS], 30) == [OPERATORS, _ours(30)]


def test_a_changed_retention_replaces_our_rule_only() -> None:
    assert with_upload_expiry([_ours(30), OPERATORS], 7) == [OPERATORS, _ours(7)]


def test_the_same_retention_changes_nothing() -> None:
    assert with_upload_expiry([OPERATORS, _ours(30)], 30) is None


def test_zero_days_removes_our_rule_and_keeps_theirs() -> None:
    assert with_upload_expiry([OPERATORS, _ours(30)], 0) == [OPERATORS]
    assert with_upload_expiry([_ours(30)], 0) == []
    assert with_upload_expiry([], 0) is None
