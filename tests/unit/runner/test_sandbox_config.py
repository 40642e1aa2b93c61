from pathlib import Path

from packguard.common import sandbox as contract
from packguard.runner.sandbox import SandboxLimits, container_config

LIMITS = SandboxLimits(
    memory_bytes=512 * 2**20,
    nano_cpus=10**9,
    pids_limit=128,
    scratch_bytes=2**28,
    nofile=(1024, 4096),
    nproc=(256, 512),
)


def _config() -> dict:
    return container_config(
        image="localhost/packguard-analyzer:test",
        command=["--help"],
        input_dir=Path("/work/in"),
        output_dir=Path("/work/out"),
        limits=LIMITS,
        labels={},
    )


def test_container_config_locks_the_sandbox_down() -> None:
    host = _config()["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["PidsLimit"] == 128
    assert host["Memory"] == host["MemorySwap"] == 512 * 2**20
    assert host["NanoCpus"] == 10**9
    assert contract.SCRATCH_DIR in host["Tmpfs"]


def test_container_config_mounts_input_read_only_and_runs_unprivileged() -> None:
    config = _config()
    assert f"/work/in:{contract.INPUT_DIR}:ro" in config["HostConfig"]["Binds"]
    assert config["User"] == contract.SANDBOX_USER
    assert not config["User"].startswith("0")


def test_container_config_sets_both_ulimits_soft_not_above_hard() -> None:
    ulimits = {u["Name"]: u for u in _config()["HostConfig"]["Ulimits"]}
    assert set(ulimits) == {"nofile", "nproc"}
    assert all(u["Soft"] <= u["Hard"] for u in ulimits.values())
