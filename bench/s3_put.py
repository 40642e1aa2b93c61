"""What writing (and reading) one report object costs: objects/s and CPU ms per object.

    .venv/bin/python -m bench.s3_put [--puts 2000] [--concurrency 32] [--body-bytes 1500]
                                     [--rounds 2] [--clients botocore,botocore-lean,store]
                                     [--weed-flag=-FLAG=VALUE ...] [--output FILE]

Starts the loopback dev stack (no Docker; SeaweedFS ``weed mini`` with the flags of
``packguard.devstack.s3_server``) and, on uvloop like the services, writes ``--puts``
report-sized JSON objects at ``--concurrency`` through each client, then reads them back:

- ``botocore``: aiobotocore ``put_object``/``get_object`` with the client options the
  store used before (the baseline);
- ``botocore-lean``: the same with botocore's documented options that skip work
  (request checksums and response validation only when required, no parameter
  validation, a pool as large as the concurrency);
- ``store``: ``ReportStore.put``/``get`` as the services call them (signed aiohttp).

Clients take turns for ``--rounds`` rounds (the shared machine's load drifts), and the
table shows each one's median round: objects/s, CPU ms per object in this process
(client) and in weed (server), and the client's and the total's share of the baseline.
CPU per object is steadier than rates on a shared machine. ``--weed-flag`` adds flags
to weed's command line, to try server options. Writes bench/results/s3_put.json.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import uvloop
from aiobotocore.session import get_session
from botocore.config import Config

from bench.process_stats import cpu_seconds
from packguard.common.settings import StorageSettings
from packguard.common.storage import open_report_store
from packguard.devstack import connection_env, s3_server, start_stack, stop_stack

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "s3_put.json"
BASELINE = "botocore"
WARM_UP = 50

Put = Callable[[str, bytes], Awaitable[None]]
Get = Callable[[str], Awaitable[bytes]]

# The options ReportStore's client had before the signed aiohttp path.
_BEFORE = {
    "retries": {"max_attempts": 3, "mode": "standard"},
    "connect_timeout": 5,
    "read_timeout": 30,
    "s3": {"addressing_style": "path"},
}
_LEAN = {
    "request_checksum_calculation": "when_required",
    "response_checksum_validation": "when_required",
    "parameter_validation": False,
    "tcp_keepalive": True,
}


@dataclass(frozen=True, slots=True)
class Round:
    client: str
    op: str
    objects: int
    per_second: float
    client_cpu_ms: float
    server_cpu_ms: float


@asynccontextmanager
async def _botocore(
    settings: StorageSettings, options: dict[str, Any]
) -> AsyncIterator[tuple[Put, Get]]:
    bucket = settings.s3_bucket
    async with get_session().create_client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_default_region,
        aws_access_key_id=settings.aws_access_key_id.get_secret_value(),  # type: ignore[union-attr]
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),  # type: ignore[union-attr]
        config=Config(**options),
    ) as client:

        async def put(key: str, body: bytes) -> None:
            await client.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType="application/json"
            )

        async def get(key: str) -> bytes:
            response = await client.get_object(Bucket=bucket, Key=key)
            async with response["Body"] as stream:
                data: bytes = await stream.read()
                return data

        yield put, get


@asynccontextmanager
async def _store(settings: StorageSettings) -> AsyncIterator[tuple[Put, Get]]:
    async with open_report_store(settings) as store:
        yield store.put, store.get


CLIENTS = (BASELINE, "botocore-lean", "store")


def _clients(
    settings: StorageSettings, concurrency: int, names: Sequence[str]
) -> dict[str, AbstractAsyncContextManager[tuple[Put, Get]]]:
    lean = {**_BEFORE, **_LEAN, "max_pool_connections": concurrency}
    makers: dict[str, Callable[[], AbstractAsyncContextManager[tuple[Put, Get]]]] = {
        BASELINE: lambda: _botocore(settings, _BEFORE),
        "botocore-lean": lambda: _botocore(settings, lean),
        "store": lambda: _store(settings),
    }
    return {name: makers[name]() for name in names}


def _cpu() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


async def _measure(
    name: str,
    op: str,
    calls: Sequence[Callable[[], Awaitable[object]]],
    concurrency: int,
    weed_pid: int,
) -> Round:
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            await call()

    server_before, client_before = sum(cpu_seconds(weed_pid)), _cpu()
    started = time.perf_counter()
    await asyncio.gather(*(one(call) for call in calls))
    elapsed = time.perf_counter() - started
    server = sum(cpu_seconds(weed_pid)) - server_before
    client = _cpu() - client_before
    count = len(calls)
    return Round(
        client=name,
        op=op,
        objects=count,
        per_second=round(count / elapsed, 1),
        client_cpu_ms=round(client * 1000 / count, 3),
        server_cpu_ms=round(server * 1000 / count, 3),
    )


async def _round(
    name: str,
    client: AbstractAsyncContextManager[tuple[Put, Get]],
    round_number: int,
    puts: int,
    body: bytes,
    concurrency: int,
    weed_pid: int,
) -> list[Round]:
    async with client as (put, get):
        for index in range(WARM_UP):
            await put(f"warm-up/{name}/{index}.json", body)
        # Keys shaped like report_key's, a scoped npm name included.
        keys = [f"reports/npm/@bench/{name}/{round_number}/{i}.json" for i in range(puts)]
        writes = [functools.partial(put, key, body) for key in keys]
        written = await _measure(name, "put", writes, concurrency, weed_pid)
        reads = [functools.partial(get, key) for key in keys]
        read = await _measure(name, "get", reads, concurrency, weed_pid)
        return [written, read]


def _medians(rounds: list[Round]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, op in dict.fromkeys((r.client, r.op) for r in rounds):
        mine = [r for r in rounds if (r.client, r.op) == (name, op)]
        rows.append(
            {
                "client": name,
                "op": op,
                "objects": sum(r.objects for r in mine),
                "per_second": round(statistics.median(r.per_second for r in mine), 1),
                "client_cpu_ms": round(statistics.median(r.client_cpu_ms for r in mine), 3),
                "server_cpu_ms": round(statistics.median(r.server_cpu_ms for r in mine), 3),
            }
        )
    for row in rows:
        base = next((r for r in rows if r["client"] == BASELINE and r["op"] == row["op"]), row)
        row["client_of_baseline"] = round(row["client_cpu_ms"] / base["client_cpu_ms"], 3)
        total, base_total = (
            row["client_cpu_ms"] + row["server_cpu_ms"],
            base["client_cpu_ms"] + base["server_cpu_ms"],
        )
        row["total_of_baseline"] = round(total / base_total, 3)
    return rows


async def main(
    puts: int,
    concurrency: int,
    body_bytes: int,
    rounds: int,
    weed_flags: Sequence[str],
    clients: Sequence[str] = CLIENTS,
) -> dict[str, Any]:
    if weed_flags:  # an experiment: the stack's weed gets these flags on top of its own
        design = s3_server.weed_command
        s3_server.weed_command = lambda *args: [*design(*args), *weed_flags]  # type: ignore[method-assign]
    body = json.dumps({"report": "x" * max(0, body_bytes - 14)}).encode()
    measured: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="packguard-s3-") as scratch:
        stack = await start_stack(Path(scratch) / "stack", free_ports=True, with_docker=False)
        try:
            env = connection_env(stack)
            weed_pid = stack.components[s3_server.NAME].pid
            settings = StorageSettings(
                s3_endpoint_url=env["S3_ENDPOINT_URL"],
                s3_bucket=env["S3_BUCKET"],
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            )
            for number in range(rounds):
                for name, client in _clients(settings, concurrency, clients).items():
                    measured += await _round(
                        name, client, number, puts, body, concurrency, weed_pid
                    )
        finally:
            await stop_stack(stack.state_dir, purge=True)
    return {
        "puts_per_round": puts,
        "concurrency": concurrency,
        "body_bytes": len(body),
        "rounds": rounds,
        "weed_flags": list(weed_flags),
        "rows": _medians(measured),
        "all_rounds": [asdict(r) for r in measured],
    }


def _print(outcome: dict[str, Any]) -> None:
    print(
        f"{outcome['puts_per_round']} objects of {outcome['body_bytes']} B per round, "
        f"concurrency {outcome['concurrency']}, median of {outcome['rounds']} rounds"
        + (f", weed {' '.join(outcome['weed_flags'])}" if outcome["weed_flags"] else "")
    )
    print(
        f"{'client':<14} {'op':<4} {'obj/s':>7} {'client ms':>9} {'server ms':>9} "
        f"{'client/base':>11} {'total/base':>10}"
    )
    for row in outcome["rows"]:
        print(
            f"{row['client']:<14} {row['op']:<4} {row['per_second']:>7.0f} "
            f"{row['client_cpu_ms']:>9.3f} {row['server_cpu_ms']:>9.3f} "
            f"{row['client_of_baseline']:>11.0%} {row['total_of_baseline']:>10.0%}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puts", type=int, default=2000, help="objects per client per round")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--body-bytes", type=int, default=1500, help="size of each object")
    parser.add_argument("--rounds", type=int, default=2, help="turns each client takes")
    parser.add_argument(
        "--weed-flag", action="append", default=[], help="an extra weed flag (repeatable)"
    )
    parser.add_argument(
        "--clients", default=",".join(CLIENTS), help=f"a subset of {','.join(CLIENTS)}"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    chosen = [name for name in args.clients.split(",") if name]
    outcome = uvloop.run(
        main(args.puts, args.concurrency, args.body_bytes, args.rounds, args.weed_flag, chosen)
    )
    _print(outcome)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(outcome, indent=2) + "\n")
