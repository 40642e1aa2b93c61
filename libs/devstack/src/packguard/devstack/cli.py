"""`python -m packguard.devstack up|down|status|env|images`: the dev stack from a shell."""

import asyncio
import logging
import shlex
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from packguard.devstack.dev_stack import DevStack, read_dev_env, start_dev_stack
from packguard.devstack.environment import export_lines
from packguard.devstack.errors import DevstackError
from packguard.devstack.service_images import ensure_all_images
from packguard.devstack.stack import stack_status, stop_stack

T = TypeVar("T")

app = typer.Typer(
    help="Start and stop packguard's local stack: Redis, PostgreSQL, S3, Docker, the analyzer "
    "image and the services.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Where data, logs and PIDs live [default: $PACKGUARD_STATE_DIR or <repo>/.packguard]",
    ),
]


@app.callback()
def _setup() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
    )


@app.command()
def up(
    state_dir: StateDir = None,
    no_services: Annotated[
        bool,
        typer.Option("--no-services", help="Only the servers, engine and base image."),
    ] = False,
    no_docker: Annotated[
        bool, typer.Option("--no-docker", help="Skip the engine and images (and the runner).")
    ] = False,
    free_ports: Annotated[
        bool, typer.Option("--free-ports", help="Random free ports, not the defaults.")
    ] = False,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild the analyzer image even if it exists.")
    ] = False,
) -> None:
    """Start the stack, reusing whatever already runs; print the API URL and dev key."""
    started = time.monotonic()
    dev = _run(
        start_dev_stack(
            state_dir,
            free_ports=free_ports,
            with_docker=not no_docker,
            with_services=not no_services,
            rebuild_image=rebuild,
        )
    )
    err.print(_up_table(dev))
    env_file = shlex.quote(str(dev.stack.state_dir / "env"))
    elapsed = time.monotonic() - started
    err.print(f"up in {elapsed:.1f}s; load the environment with: source {env_file}")
    if dev.gateway_url and dev.api_key:
        typer.echo(f"API:         {dev.gateway_url}")
        typer.echo(f"dev API key: {dev.api_key}")


def _up_table(dev: DevStack) -> Table:
    stack = dev.stack
    table = Table("component", "pid", "port", "")
    for name, record in stack.components.items():
        table.add_row(
            name, str(record.pid), str(record.port), "reused" if name in stack.reused else "started"
        )
    if stack.docker_host:
        table.add_row("docker", "", "", f"{stack.docker_host} ({stack.base_image})")
    if dev.analyzer_image:
        table.add_row("analyzer image", "", "", dev.analyzer_image)
    if dev.services:
        for name, service in dev.services.records.items():
            verb = "reused" if name in dev.services.reused else "started"
            table.add_row(name, str(service.pid), str(service.port), verb)
        for name in dev.services.skipped:
            table.add_row(name, "", "", "skipped: needs the container engine")
    return table


@app.command()
def images(
    state_dir: StateDir = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild the images even if they exist.")
    ] = False,
) -> None:
    """Build (or reuse) the analyzer and the four service images; print their names."""
    for image in _run(ensure_all_images(state_dir, rebuild=rebuild)):
        typer.echo(image)


@app.command()
def down(
    state_dir: StateDir = None,
    docker: Annotated[
        bool, typer.Option("--docker", help="Also stop the shared private dockerd.")
    ] = False,
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete the state dir and its data.")
    ] = False,
) -> None:
    """Stop the services, then the servers (the shared dockerd runs on unless --docker)."""
    _run(stop_stack(state_dir, with_docker=docker, purge=purge))


@app.command()
def status(state_dir: StateDir = None) -> None:
    """Show each server's and service's state; exit 1 unless all of them answer."""
    statuses = _run(stack_status(state_dir))
    table = Table("component", "state", "pid", "port", "detail")
    for item in statuses:
        table.add_row(item.name, item.state, str(item.pid or ""), str(item.port or ""), item.detail)
    Console().print(table)
    if any(item.state != "running" for item in statuses):
        raise typer.Exit(1)


@app.command()
def env(state_dir: StateDir = None) -> None:
    """Print `export K=V` lines for a running stack (eval them in a shell)."""
    env_vars = read_dev_env(state_dir)
    if env_vars is None:
        err.print("[red]the stack is not running: start it with `python -m packguard.devstack up`")
        raise typer.Exit(1)
    typer.echo(export_lines(env_vars), nl=False)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except DevstackError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
