from pathlib import Path

import pytest

from packguard.devstack.layout import StateLayout, default_state_dir
from packguard.devstack.state_file import ComponentRecord, StackState, load_state, save_state


def test_save_state_then_load_state_round_trips(tmp_path: Path) -> None:
    layout = StateLayout(tmp_path / "state")
    state = StackState(
        {
            "redis": ComponentRecord(pid=11, port=16379),
            "s3": ComponentRecord(pid=12, port=18333, extra_ports={"master": 19333}),
            "postgres": ComponentRecord(pid=13, port=15432, launcher_pid=10, data_dir="/d"),
        },
        docker_host="unix:///run/x.sock",
    )
    save_state(layout, state)
    assert load_state(layout) == state
    assert layout.pid_file("redis").read_text() == "11\n"


def test_load_state_missing_pid_file_forgets_component(tmp_path: Path) -> None:
    layout = StateLayout(tmp_path)
    save_state(layout, StackState({"redis": ComponentRecord(pid=11, port=16379)}))
    layout.pid_file("redis").unlink()
    assert load_state(layout).components == {}


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"components": {"redis": 1}}'])
def test_load_state_corrupt_file_yields_empty_state(tmp_path: Path, content: str) -> None:
    layout = StateLayout(tmp_path)
    layout.create()
    layout.state_file.write_text(content)
    layout.pid_file("redis").write_text("11\n")
    assert load_state(layout) == StackState()


def test_save_state_removes_pid_files_of_absent_components(tmp_path: Path) -> None:
    layout = StateLayout(tmp_path)
    save_state(layout, StackState({"redis": ComponentRecord(pid=11, port=1)}))
    save_state(layout, StackState())
    assert not layout.pid_file("redis").exists()


def test_default_state_dir_env_override_wins(tmp_path: Path) -> None:
    environ = {"PACKGUARD_STATE_DIR": str(tmp_path / "elsewhere")}
    assert default_state_dir(tmp_path, environ) == tmp_path / "elsewhere"


def test_default_state_dir_inside_checkout_uses_repo_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    nested = tmp_path / "libs" / "x"
    nested.mkdir(parents=True)
    assert default_state_dir(nested, {}) == tmp_path / ".packguard"
