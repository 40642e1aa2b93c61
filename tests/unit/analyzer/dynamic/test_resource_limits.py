"""Limits a phase ran into: the container's cgroup counters (v1 and v2) and full mounts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from packguard.analyzer.dynamic.limits import (
    LimitHit,
    LimitProbe,
    LimitUsage,
    limit_hits,
    mount_points,
)

V1 = {
    "memory/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill {oom}\n",
    "pids/pids.events": "max {forks}\n",
}
V2 = {
    "memory.events": "low 0\nhigh 0\nmax 12\noom 2\noom_kill {oom}\noom_group_kill 0\n",
    "pids.events": "max {forks}\n",
}


def _cgroup(root: Path, layout: dict[str, str], *, oom: int, forks: int) -> Path:
    for relative, template in layout.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(oom=oom, forks=forks))
    return root


@pytest.mark.parametrize("layout", [V1, V2], ids=["cgroup-v1", "cgroup-v2"])
def test_probe_reads_oom_kills_and_refused_forks(tmp_path: Path, layout: dict[str, str]) -> None:
    root = _cgroup(tmp_path, layout, oom=3, forks=5000)
    assert LimitProbe(cgroup_root=root).sample() == LimitUsage(oom_kills=3, refused_forks=5000)


def test_probe_without_cgroup_files_counts_nothing(tmp_path: Path) -> None:
    (tmp_path / "memory.events").write_text("garbage\noom_kill x\n")
    assert LimitProbe(cgroup_root=tmp_path).sample() == LimitUsage()


def test_only_what_grew_during_the_phase_is_a_hit() -> None:
    before = LimitUsage(oom_kills=1, refused_forks=10, full=("/tmp",))
    after = LimitUsage(oom_kills=3, refused_forks=10, full=("/tmp", "/sandbox/scratch/a"))
    assert limit_hits(before, after) == [
        LimitHit("memory", "2 process(es) killed at the memory limit"),
        LimitHit("disk", "/sandbox/scratch/a left full"),
    ]
    assert [hit.syscall for hit in limit_hits(before, after)] == ["oom_kill", "write"]
    assert limit_hits(after, after) == []


def test_refused_forks_are_a_processes_hit() -> None:
    (hit,) = limit_hits(LimitUsage(), LimitUsage(refused_forks=212))
    assert (hit.resource, hit.syscall, hit.detail) == (
        "processes",
        "fork",
        "212 fork(s) refused at the pids limit",
    )


def test_a_filesystem_with_room_is_not_full(tmp_path: Path) -> None:
    assert LimitProbe(filesystems=(tmp_path,), cgroup_root=tmp_path).sample().full == ()


def test_full_filesystems_are_named_by_their_mount_point(tmp_path: Path) -> None:
    (mount,) = mount_points([tmp_path, tmp_path / "not-yet-created"])
    assert os.path.ismount(mount) and tmp_path.is_relative_to(mount)
