"""The environment variables services and tests use to reach a running stack."""

import shlex
from pathlib import Path

from packguard.devstack import postgres_server, s3_server
from packguard.devstack.ports import LOOPBACK
from packguard.devstack.running_stack import RunningStack


def connection_env(stack: RunningStack) -> dict[str, str]:
    """REDIS_URL, DATABASE_URL, S3_*, AWS_* and (with docker) DOCKER_HOST for `stack`."""
    env = {
        "REDIS_URL": f"redis://{LOOPBACK}:{stack.redis_port}/0",
        "DATABASE_URL": (
            f"postgresql://{postgres_server.USER}:{postgres_server.PASSWORD}"
            f"@{LOOPBACK}:{stack.postgres_port}/{postgres_server.DATABASE}"
        ),
        "S3_ENDPOINT_URL": s3_server.endpoint_url(stack.s3_port),
        "S3_BUCKET": s3_server.BUCKET,
        "AWS_ACCESS_KEY_ID": s3_server.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": s3_server.SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": s3_server.REGION,
    }
    if stack.docker_host:
        env["DOCKER_HOST"] = stack.docker_host
    return env


def export_lines(env: dict[str, str]) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())


def write_env_file(path: Path, env: dict[str, str]) -> None:
    path.touch(mode=0o600)  # it holds (dev) credentials
    path.write_text(export_lines(env))
