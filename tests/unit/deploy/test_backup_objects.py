"""Dump keys, retention and multipart layout of deploy/backup/backup_objects.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType

import pytest

NOW = datetime(2026, 5, 7, 3, 15, 0, tzinfo=UTC)
MIB = 1024 * 1024


def test_dump_key_is_dated_utc_and_parses_back(backup_objects: ModuleType) -> None:
    local = NOW.astimezone(timezone(timedelta(hours=2)))
    key = backup_objects.dump_key("backups/postgres/", local)
    assert key == "backups/postgres/packguard-20260507T031500Z.dump"
    assert backup_objects.dump_time(key) == NOW


@pytest.mark.parametrize(
    "key",
    [
        "backups/postgres/README.txt",
        "backups/postgres/packguard-20260507T031500Z.dump.partial",
        "backups/postgres/other-20260507T031500Z.dump",
        "backups/postgres/packguard-2026-05-07.dump",
    ],
)
def test_dump_time_of_a_foreign_key_is_none(backup_objects: ModuleType, key: str) -> None:
    assert backup_objects.dump_time(key) is None


def test_expired_keys_only_dumps_older_than_retention_oldest_first(
    backup_objects: ModuleType,
) -> None:
    def key(days: float) -> str:
        return str(backup_objects.dump_key("p", NOW - timedelta(days=days)))

    keys = [key(29.9), key(45), "p/README.txt", key(30.1), key(0), key(400)]
    expired = backup_objects.expired_keys(keys, now=NOW, retention_days=30)
    assert expired == [key(400), key(45), key(30.1)]


def test_newest_key_ignores_foreign_keys(backup_objects: ModuleType) -> None:
    old = backup_objects.dump_key("p", NOW - timedelta(days=1))
    new = backup_objects.dump_key("p", NOW)
    assert backup_objects.newest_key([old, "p/zzz.dump", new, "p/README"]) == new
    assert backup_objects.newest_key(["p/README"]) is None


@pytest.mark.parametrize(
    ("size", "part", "expected"),
    [
        (0, 5 * MIB, [(0, 0)]),
        (5 * MIB, 5 * MIB, [(0, 5 * MIB)]),
        (11 * MIB, 5 * MIB, [(0, 5 * MIB), (5 * MIB, 5 * MIB), (10 * MIB, MIB)]),
    ],
)
def test_part_ranges_cover_the_file_exactly(
    backup_objects: ModuleType, size: int, part: int, expected: list[tuple[int, int]]
) -> None:
    assert backup_objects.part_ranges(size, part) == expected
