"""The exact command lines and documents handed to the servers; all flags matter."""

from pathlib import Path

from packguard.devstack.base_image import (
    IMAGE_CHANGES,
    PACKAGES,
    PACKAGES_LABEL,
    debootstrap_command,
)
from packguard.devstack.docker_engine import EnginePaths, daemon_config
from packguard.devstack.environment import connection_env, export_lines
from packguard.devstack.postgres_server import (
    RELOCATED_BASE,
    ClusterPaths,
    choose_cluster_root,
    initdb_command,
    postgres_command,
)
from packguard.devstack.redis_server import redis_command
from packguard.devstack.running_stack import RunningStack
from packguard.devstack.s3_server import weed_command
from packguard.devstack.state_file import ComponentRecord

D = Path("/state/s3")


def test_weed_command_has_exactly_the_design_flags() -> None:
    ports = {"s3": 18333, "master": 19333, "volume": 18080, "filer": 18888, "admin": 23646}
    assert weed_command(Path("/bin/weed"), D, ports) == [
        "/bin/weed",
        "-logdir=/state/s3/log",
        "mini",
        "-dir=/state/s3",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-s3.port=18333",
        "-master.port=19333",
        "-volume.port=18080",
        "-filer.port=18888",
        "-admin.port=23646",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        "-filer.localSocket=/state/s3/filer.sock",
        "-s3.localSocket=/state/s3/s3.sock",
    ]


def test_redis_command_binds_loopback_with_aof_and_no_rdb() -> None:
    assert redis_command(Path("/bin/valkey-server"), Path("/state/redis"), 16379) == [
        "/bin/valkey-server",
        "--bind", "127.0.0.1",
        "--port", "16379",
        "--appendonly", "yes",
        "--dir", "/state/redis",
        "--save", "",
    ]  # fmt: skip


def test_postgres_command_listens_on_loopback_with_private_socket_dir() -> None:
    command = postgres_command(Path("/pg/bin"), ClusterPaths(Path("/state/postgres")), 15432)
    assert command[0] == "/pg/bin/postgres"
    assert "listen_addresses=127.0.0.1" in command
    assert command[command.index("-k") + 1] == "/state/postgres/run"
    assert command[command.index("-D") + 1] == "/state/postgres/data"


def test_initdb_command_makes_postgres_superuser() -> None:
    command = initdb_command(Path("/pg/bin"), ClusterPaths(Path("/c")))
    assert command[:5] == ["/pg/bin/initdb", "-D", "/c/data", "-U", "postgres"]


def test_choose_cluster_root_reachable_short_path_stays_in_state_dir() -> None:
    assert choose_cluster_root(Path("/work/.packguard"), reachable=True) == Path(
        "/work/.packguard/postgres"
    )


def test_choose_cluster_root_unreachable_is_relocated_stably() -> None:
    first = choose_cluster_root(Path("/tmp/pytest-of-root/x"), reachable=False)
    assert first.parent == RELOCATED_BASE
    assert first == choose_cluster_root(Path("/tmp/pytest-of-root/x"), reachable=False)
    assert first != choose_cluster_root(Path("/tmp/pytest-of-root/y"), reachable=False)


def test_choose_cluster_root_socket_path_too_long_is_relocated() -> None:
    deep = Path("/" + "d" * 100)
    assert choose_cluster_root(deep, reachable=True).parent == RELOCATED_BASE


def test_daemon_config_private_dirs_no_host_networking_and_ulimits() -> None:
    paths = EnginePaths(runtime_dir=Path("/run/pg"), data_root=Path("/var/lib/pg"))
    config = daemon_config(paths)
    assert config["hosts"] == ["unix:///run/pg/docker.sock"]
    assert (config["data-root"], config["exec-root"], config["pidfile"]) == (
        "/var/lib/pg",
        "/run/pg/exec",
        "/run/pg/dockerd.pid",
    )
    assert config["storage-driver"] == "overlay2"
    assert (config["iptables"], config["ip-forward"], config["ip-masq"]) == (False, False, False)
    assert config["bridge"] == "none"
    assert config["default-ulimits"] == {
        "nofile": {"Name": "nofile", "Soft": 1024, "Hard": 20000},
        "nproc": {"Name": "nproc", "Soft": 1024, "Hard": 32768},
    }


def test_debootstrap_command_minbase_bookworm_with_sandbox_tools() -> None:
    command = debootstrap_command(Path("/sbin/debootstrap"), Path("/r"), "http://m.invalid/d")
    assert command == [
        "/sbin/debootstrap",
        "--variant=minbase",
        "--include=python3,python3-venv,python3-pip,strace,nodejs,ca-certificates",
        "bookworm",
        "/r",
        "http://m.invalid/d",
    ]


def test_base_image_is_labelled_with_its_package_list() -> None:
    # An engine holding a base built from an older list rebuilds it once (nodejs added).
    assert f"LABEL {PACKAGES_LABEL}={','.join(PACKAGES)}" in IMAGE_CHANGES
    assert "nodejs" in PACKAGES


def test_connection_env_all_urls_point_at_loopback_ports() -> None:
    stack = RunningStack(
        state_dir=Path("/s"),
        components={
            "redis": ComponentRecord(pid=1, port=1001),
            "postgres": ComponentRecord(pid=2, port=1002),
            "s3": ComponentRecord(pid=3, port=1003),
        },
        docker_host="unix:///run/d.sock",
    )
    assert connection_env(stack) == {
        "REDIS_URL": "redis://127.0.0.1:1001/0",
        "DATABASE_URL": "postgresql://packguard:packguard@127.0.0.1:1002/packguard",
        "S3_ENDPOINT_URL": "http://127.0.0.1:1003",
        "S3_BUCKET": "packguard",
        "AWS_ACCESS_KEY_ID": "packguard",
        "AWS_SECRET_ACCESS_KEY": "packguard-dev-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DOCKER_HOST": "unix:///run/d.sock",
    }


def test_connection_env_without_docker_omits_docker_host() -> None:
    records = {n: ComponentRecord(pid=1, port=1) for n in ("redis", "postgres", "s3")}
    assert "DOCKER_HOST" not in connection_env(RunningStack(Path("/s"), records))


def test_export_lines_values_are_shell_quoted() -> None:
    env = {"A": "plain", "B": "with space", "C": "it's"}
    assert export_lines(env) == "export A=plain\nexport B='with space'\nexport C='it'\"'\"'s'\n"
