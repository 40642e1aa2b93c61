"""The service images' recipe, content tags and health probe, without building anything."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import ModuleType

import pytest

from packguard.devstack import SERVICE_NAMES, service_tag
from packguard.devstack.service_images import (
    BACKUP,
    BACKUP_DOCKERFILE,
    CONTEXT_SCRIPT,
    DOCKERFILE,
    IMAGE_NAMES,
    SERVICE_USER,
    dockerfile_of,
    service_build_args,
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PACKGUARD_SERVICE": "gateway", "PORT": "8000"}, "http://127.0.0.1:8000/ready/"),
        ({"PACKGUARD_SERVICE": "gateway"}, "http://127.0.0.1:8000/ready/"),
        # The gateway serves its probes on PORT and ignores METRICS_PORT.
        (
            {"PACKGUARD_SERVICE": "gateway", "METRICS_PORT": "9100", "PORT": "80"},
            "http://127.0.0.1:80/ready/",
        ),
        ({"PACKGUARD_SERVICE": "runner", "METRICS_PORT": "9100"}, "http://127.0.0.1:9100/ready/"),
        ({"PACKGUARD_SERVICE": "runner", "METRICS_PORT": "0"}, None),
        ({"PACKGUARD_SERVICE": "reporter"}, None),
        ({"PACKGUARD_SERVICE": "scheduler", "METRICS_PORT": "x"}, None),
    ],
)
def test_healthcheck_probe_url_follows_the_service_listener(
    healthcheck: ModuleType, env: dict[str, str], expected: str | None
) -> None:
    assert healthcheck.probe_url(env) == expected


@pytest.mark.parametrize("recipe", [DOCKERFILE, BACKUP_DOCKERFILE])
def test_dockerfiles_are_multi_stage_non_root_with_public_default_base(
    repo_root: Path, recipe: Path
) -> None:
    text = (repo_root / recipe).read_text()
    default_base = re.search(r"^ARG BASE_IMAGE=(\S+)$", text, re.MULTILINE)
    assert default_base and not default_base[1].startswith("localhost/")
    stages = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert stages == ["${BASE_IMAGE}", "${BASE_IMAGE}"]
    assert "COPY --from=build /opt/packguard /opt/packguard" in text
    assert re.search(rf"^USER {SERVICE_USER}$", text, re.MULTILINE)
    assert not SERVICE_USER.startswith("0:")
    assert not text.startswith("# syntax=")  # BuildKit would pull a frontend image
    assert os.access(repo_root / CONTEXT_SCRIPT, os.X_OK)


def test_service_build_args_name_the_service_and_the_local_base() -> None:
    assert service_build_args("runner") == {
        "BASE_IMAGE": "localhost/packguard-base:bookworm",
        "SERVICE": "runner",
    }
    assert service_build_args(BACKUP) == {"BASE_IMAGE": "localhost/packguard-base:bookworm"}
    assert dockerfile_of("runner") == "Dockerfile"
    assert dockerfile_of(BACKUP) == BACKUP_DOCKERFILE.name


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    files = [
        *(f"services/{name}/src/packguard/{name}/__main__.py" for name in SERVICE_NAMES),
        *(f"services/{name}/pyproject.toml" for name in SERVICE_NAMES),
        "libs/common/src/packguard/common/settings.py",
        "libs/common/pyproject.toml",
        "deploy/images/service.Dockerfile",
        "deploy/backup/pg-backup.sh",
        "libs/analyzer/image/build-context.sh",
        "libs/analyzer/src/packguard/analyzer/analyze.py",
        "constraints.txt",
    ]
    for relative in files:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {relative}\n")
    return tmp_path


def _tags(checkout: Path) -> dict[str, str]:
    return {name: service_tag(checkout, name) for name in IMAGE_NAMES}


def _touch(checkout: Path, relative: str) -> None:
    with (checkout / relative).open("a") as handle:
        handle.write("changed\n")


def test_service_tag_own_source_change_retags_only_that_service(checkout: Path) -> None:
    before = _tags(checkout)
    assert all(re.fullmatch(r"[0-9a-f]{12}", tag) for tag in before.values())
    _touch(checkout, "services/runner/src/packguard/runner/__main__.py")
    after = _tags(checkout)
    assert [name for name in IMAGE_NAMES if after[name] != before[name]] == ["runner"]


def test_service_tag_backup_script_change_retags_only_the_backup_image(checkout: Path) -> None:
    before = _tags(checkout)
    _touch(checkout, "deploy/backup/pg-backup.sh")
    after = _tags(checkout)
    assert [name for name in IMAGE_NAMES if after[name] != before[name]] == [BACKUP]


@pytest.mark.parametrize(
    "relative",
    [
        "libs/common/src/packguard/common/settings.py",
        "deploy/images/service.Dockerfile",
        "libs/analyzer/image/build-context.sh",
        "constraints.txt",
    ],
)
def test_service_tag_shared_input_change_retags_every_service(
    checkout: Path, relative: str
) -> None:
    before = _tags(checkout)
    _touch(checkout, relative)
    after = _tags(checkout)
    assert all(after[name] != before[name] for name in IMAGE_NAMES)


def test_service_tag_analyzer_source_change_retags_nothing(checkout: Path) -> None:
    before = _tags(checkout)
    _touch(checkout, "libs/analyzer/src/packguard/analyzer/analyze.py")
    assert _tags(checkout) == before
