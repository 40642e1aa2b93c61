from pathlib import Path

import pytest

from packguard.devstack.errors import SetupError
from packguard.devstack.service_records import (
    ServiceRecord,
    load_service_records,
    save_service_records,
    services_file,
)
from packguard.devstack.services import (
    SERVICES,
    SPECS_BY_NAME,
    ServiceSpec,
    check_installed,
    service_env,
    service_fingerprint,
)

CONNECTION = {
    "REDIS_URL": "redis://127.0.0.1:16379/0",
    "DOCKER_HOST": "unix:///run/packguard-docker/docker.sock",
}
IMAGE = "localhost/packguard-analyzer:0123456789ab"


def _env(name: str, image: str = IMAGE) -> dict[str, str]:
    return service_env(
        SPECS_BY_NAME[name], CONNECTION, state_dir=Path("/state"), analyzer_image=image
    )


def test_service_env_gateway_loopback_no_metrics_port_no_engine() -> None:
    env = _env("gateway")
    assert SPECS_BY_NAME["gateway"].port_variable == "PORT"
    assert env["HOST"] == "127.0.0.1"
    assert env["METRICS_PORT"] == "0"
    assert env["REDIS_URL"] == CONNECTION["REDIS_URL"]
    assert not {"ANALYZER_IMAGE", "DOCKER_HOST", "WORK_DIR"} & env.keys()


@pytest.mark.parametrize("name", ["scheduler", "reporter"])
def test_service_env_worker_health_on_metrics_port_loopback(name: str) -> None:
    env = _env(name)
    assert SPECS_BY_NAME[name].port_variable == "METRICS_PORT"
    assert env["METRICS_HOST"] == "127.0.0.1"
    assert "PORT" not in env


def test_service_env_runner_engine_image_and_work_dir_under_state_dir() -> None:
    env = _env("runner")
    assert env["DOCKER_HOST"] == CONNECTION["DOCKER_HOST"]
    assert env["ANALYZER_IMAGE"] == IMAGE
    assert env["WORK_DIR"] == "/state/services/runner/work"


def test_service_fingerprint_new_image_tag_changes_runner_only() -> None:
    def fingerprint(name: str, image: str) -> str:
        return service_fingerprint(_env(name, image), "code")

    other = "localhost/packguard-analyzer:ba9876543210"
    assert fingerprint("runner", IMAGE) != fingerprint("runner", other)
    assert fingerprint("gateway", IMAGE) == fingerprint("gateway", other)


def test_service_fingerprint_code_changes_fingerprint() -> None:
    env = _env("scheduler")
    assert service_fingerprint(env, "a") != service_fingerprint(env, "b")


def test_services_all_four_in_start_order() -> None:
    assert [s.name for s in SERVICES] == ["gateway", "scheduler", "runner", "reporter"]
    assert [s.name for s in SERVICES if s.needs_docker] == ["runner"]


def test_check_installed_missing_service_named_in_error() -> None:
    check_installed(SERVICES)  # the venv has them all
    missing = ServiceSpec("not_a_service", "METRICS_PORT", "METRICS_HOST", "/health/")
    with pytest.raises(SetupError, match=r"packguard\.not_a_service is not installed"):
        check_installed([*SERVICES, missing])


def test_service_records_round_trip_and_empty_removes_file(tmp_path: Path) -> None:
    records = {
        "gateway": ServiceRecord(pid=10, port=8000, executable="/venv/bin/python", fingerprint="f"),
        "runner": ServiceRecord(pid=11, port=24002, executable="/venv/bin/python", fingerprint="g"),
    }
    save_service_records(tmp_path, records)
    assert load_service_records(tmp_path) == records
    save_service_records(tmp_path, {})
    assert not services_file(tmp_path).exists()


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"gateway": {"pid": 1}}'])
def test_load_service_records_corrupt_file_nothing_recorded(tmp_path: Path, content: str) -> None:
    services_file(tmp_path).write_text(content)
    assert load_service_records(tmp_path) == {}
