"""The ``packguard`` command."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from pydantic import ValidationError
from rich.console import Console

from packguard.cli.apikey_commands import apikey_app
from packguard.cli.client import ApiError, PackguardClient, open_client
from packguard.cli.display import report_summary, status_line, task_table
from packguard.cli.exit_codes import (
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_OK,
    exit_code_for_task,
    exit_code_for_verdict,
)
from packguard.cli.scan_command import scan
from packguard.cli.scan_target import is_purl
from packguard.common.api import AnalyzeRequest, TaskView, UploadFields
from packguard.common.logs import configure_logging
from packguard.common.purl import Ecosystem
from packguard.common.report import AnalysisReport
from packguard.common.sarif import report_to_sarif

app = typer.Typer(
    help=f"packguard: analyse open-source packages for malicious behaviour.\n\n{EXIT_CODES_HELP}",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(apikey_app, name="apikey")
app.command(epilog=EXIT_CODES_HELP)(scan)
_out = Console()
_err = Console(stderr=True)

Url = Annotated[str, typer.Option("--url", envvar="PACKGUARD_URL", help="The packguard API.")]
ApiKeyText = Annotated[
    str,
    typer.Option("--api-key", envvar="PACKGUARD_API_KEY", show_default=False, help="API key."),
]
TaskId = Annotated[UUID, typer.Argument(help="The task id printed by 'packguard submit'.")]
DEFAULT_URL = "http://127.0.0.1:8000"


class ReportFormat(StrEnum):
    JSON = "json"
    SUMMARY = "summary"
    SARIF = "sarif"


def _finish(work: Coroutine[Any, Any, int]) -> None:
    """Run ``work`` and exit with its code; API and connection errors exit 3."""
    try:
        code = asyncio.run(work)
    except ApiError as exc:
        _err.print(f"[red]error[/red] {exc.code}: {exc.message}", highlight=False)
        code = EXIT_ERROR
    raise typer.Exit(code)


async def _wait(
    client: PackguardClient, task_id: UUID, *, wait_seconds: float, poll_interval: float
) -> TaskView | None:
    """Poll until the task is final (None when ``wait_seconds`` pass first)."""
    deadline = time.monotonic() + wait_seconds
    with _err.status(f"task {task_id}: submitted") as display:
        while True:
            task = await client.task(task_id)
            display.update(f"{task.purl}: {status_line(task)}")
            if task.status.is_final:
                return task
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(poll_interval)


async def _show_outcome(client: PackguardClient, task: TaskView) -> int:
    _out.print(task_table(task))
    if task.verdict is not None:
        report = AnalysisReport.model_validate(await client.report(task.task_id))
        _out.print(report_summary(report))
    return exit_code_for_task(task)


@app.command(epilog=EXIT_CODES_HELP)
def submit(
    target: Annotated[
        str, typer.Argument(help="A purl (pkg:pypi/six@1.16.0) or a local archive to upload.")
    ],
    ecosystem: Annotated[
        Ecosystem | None,
        typer.Option(help="For an archive whose name does not say (.tar.gz/.whl/.zip, .tgz)."),
    ] = None,
    priority: Annotated[int, typer.Option(min=0, max=10, help="Higher runs first.")] = 0,
    delay: Annotated[int, typer.Option(min=0, help="Start no earlier than this (s).")] = 0,
    force: Annotated[bool, typer.Option(help="Analyze again despite a current report.")] = False,
    wait: Annotated[bool, typer.Option(help="Follow the task and print the verdict.")] = False,
    timeout: Annotated[float, typer.Option(help="Give up waiting after this (s).")] = 3600.0,
    poll_interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
    url: Url = DEFAULT_URL,
    api_key: ApiKeyText = "",
) -> None:
    """Submit a package or upload an archive; print the task id (with --wait, the verdict,
    and exit by it)."""
    try:
        request: AnalyzeRequest | UploadFields = (
            AnalyzeRequest(purl=target, priority=priority, delay_seconds=delay, force=force)
            if is_purl(target)
            else UploadFields(
                ecosystem=ecosystem, priority=priority, delay_seconds=delay, force=force
            )
        )
    except ValidationError as exc:
        _err.print(f"[red]error[/red] invalid_input: {exc.errors()[0]['msg']}")
        raise typer.Exit(EXIT_ERROR) from None
    if isinstance(request, UploadFields) and not Path(target).is_file():
        _err.print(f"[red]error[/red] invalid_input: {target!r} is neither a purl nor a file")
        raise typer.Exit(EXIT_ERROR)

    async def work() -> int:
        async with open_client(url, api_key) as client:
            accepted = await (
                client.submit(request)
                if isinstance(request, AnalyzeRequest)
                else client.upload(Path(target), request)
            )
            typer.echo(str(accepted.task_id))
            _err.print(f"{accepted.outcome}: {target} is {accepted.status.value}", highlight=False)
            if not wait:
                return EXIT_OK
            task = await _wait(
                client, accepted.task_id, wait_seconds=timeout, poll_interval=poll_interval
            )
            if task is None:
                _err.print(f"still running after {timeout:.0f}s; see 'packguard status ID'")
                return EXIT_ERROR
            return await _show_outcome(client, task)

    _finish(work())


@app.command(epilog=EXIT_CODES_HELP)
def status(task_id: TaskId, url: Url = DEFAULT_URL, api_key: ApiKeyText = "") -> None:
    """Show a task; exit by its verdict when completed (0 while in flight)."""

    async def work() -> int:
        async with open_client(url, api_key) as client:
            task = await client.task(task_id)
        _out.print(task_table(task))
        return exit_code_for_task(task)

    _finish(work())


@app.command(epilog=EXIT_CODES_HELP)
def report(
    task_id: TaskId,
    output_format: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.SUMMARY,
    url: Url = DEFAULT_URL,
    api_key: ApiKeyText = "",
) -> None:
    """Print a completed task's report; exit by its verdict."""

    async def work() -> int:
        async with open_client(url, api_key) as client:
            document = await client.report(task_id)
        parsed = AnalysisReport.model_validate(document)
        if output_format is ReportFormat.JSON:
            typer.echo(json.dumps(document, indent=2, sort_keys=True))
        elif output_format is ReportFormat.SARIF:
            typer.echo(json.dumps(report_to_sarif(parsed), indent=2))
        else:
            _out.print(report_summary(parsed))
        return exit_code_for_verdict(parsed.verdict.label)

    _finish(work())


def run() -> None:
    """Console entry point: usage errors exit 3, not click's 2 (2 means malicious)."""
    # stdout carries only results (a new key, a report); library events go to stderr.
    configure_logging("cli", os.environ.get("LOG_LEVEL", "WARNING"))
    try:
        code = typer.main.get_command(app).main(standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: missing or bad arguments
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _err.print(f"error: {exc.message}", highlight=False)
        code = EXIT_ERROR
    except typer.Abort:
        code = EXIT_ERROR
    raise SystemExit(code if isinstance(code, int) else EXIT_OK)
