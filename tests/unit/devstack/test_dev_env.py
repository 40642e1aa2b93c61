import shlex
import stat
import subprocess
from pathlib import Path

from packguard.devstack.dev_api_key import read_dev_api_key, write_dev_api_key
from packguard.devstack.dev_stack import dev_env
from packguard.devstack.environment import write_env_file
from packguard.devstack.running_stack import RunningStack
from packguard.devstack.state_file import ComponentRecord

KEY = "pgk_0123_abc-DEF"


def _stack(tmp_path: Path) -> RunningStack:
    return RunningStack(
        state_dir=tmp_path,
        components={
            "redis": ComponentRecord(pid=1, port=16379),
            "postgres": ComponentRecord(pid=2, port=15432),
            "s3": ComponentRecord(pid=3, port=18333),
        },
        docker_host="unix:///run/packguard-docker/docker.sock",
    )


def _parse(text: str) -> dict[str, str]:
    pairs = [shlex.split(line.removeprefix("export "))[0] for line in text.splitlines()]
    return dict(pair.split("=", 1) for pair in pairs)


def test_dev_env_running_gateway_and_key_every_variable_present(tmp_path: Path) -> None:
    env = dev_env(_stack(tmp_path), gateway_url="http://127.0.0.1:8000", api_key=KEY)
    assert env["PACKGUARD_URL"] == "http://127.0.0.1:8000"
    assert env["PACKGUARD_API_KEY"] == KEY
    assert env["REDIS_URL"] == "redis://127.0.0.1:16379/0"
    assert env["DATABASE_URL"].endswith("@127.0.0.1:15432/packguard")
    assert env["S3_ENDPOINT_URL"] == "http://127.0.0.1:18333"
    assert env["DOCKER_HOST"] == "unix:///run/packguard-docker/docker.sock"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_BUCKET"} <= env.keys()


def test_dev_env_no_services_no_packguard_variables(tmp_path: Path) -> None:
    env = dev_env(_stack(tmp_path), gateway_url=None, api_key=None)
    assert not {k for k in env if k.startswith("PACKGUARD_")}


def test_env_file_owner_only_and_sourceable_by_a_shell(tmp_path: Path) -> None:
    env = dev_env(_stack(tmp_path), gateway_url="http://127.0.0.1:8000", api_key=KEY)
    env_file = tmp_path / "env"
    write_env_file(env_file, env)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert _parse(env_file.read_text()) == env
    shown = subprocess.run(
        ["bash", "-c", 'source "$1" && echo "$PACKGUARD_URL $PACKGUARD_API_KEY"', "-", env_file],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown == f"http://127.0.0.1:8000 {KEY}\n"


def test_write_dev_api_key_owner_only_and_read_back(tmp_path: Path) -> None:
    assert read_dev_api_key(tmp_path) is None
    write_dev_api_key(tmp_path, KEY)
    assert read_dev_api_key(tmp_path) == KEY
    assert stat.S_IMODE((tmp_path / "dev-api-key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["dev-api-key"]
