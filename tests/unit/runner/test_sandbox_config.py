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
    assert set(ulimits) == {"nofile", "nproc", "fsize"}
    assert all(u["Soft"] <= u["Hard"] for u in ulimits.values())


def test_what_package_code_can_write_on_the_host_is_capped() -> None:
    host = _config()["HostConfig"]
    # The pre-created report is the one host file it reaches: no bigger than scratch.
    fsize = next(u for u in host["Ulimits"] if u["Name"] == "fsize")
    assert fsize["Soft"] == fsize["Hard"] == LIMITS.scratch_bytes
    # PID 1's stdout (reachable through /proc/1/fd/1) lands in the engine's log file.
    assert host["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-size": "1m", "max-file": "1"},
    }


def test_container_config_lets_the_analyzer_sinkhole_network_intent_inside() -> None:
    config = _config()
    host = config["HostConfig"]
    # Still no network at all: only lo, and the analyzer's resolver on it answers names.
    assert host["NetworkMode"] == "none" and config["NetworkDisabled"] is True
    assert host["Dns"] == [contract.SINKHOLE_RESOLVER] == ["127.0.0.1"]
    # Binding 53/80/443 as uid 65534 without CAP_NET_BIND_SERVICE: a per-netns sysctl.
    assert host["Sysctls"] == {"net.ipv4.ip_unprivileged_port_start": "0"}
    assert "CapAdd" not in host


def test_scratch_allows_exec_but_never_setuid_or_devices() -> None:
    options = _config()["HostConfig"]["Tmpfs"][contract.SCRATCH_DIR].split(",")
    assert {"rw", "exec", "nosuid", "nodev"} <= set(options)
    assert "noexec" not in options
    assert f"size={LIMITS.scratch_bytes}" in options
