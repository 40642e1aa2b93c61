#!/usr/bin/env python3
"""The object-storage side of the PostgreSQL backups: put, get, latest, prune.

    backup_objects.py key PREFIX                      # prints PREFIX/packguard-<UTC>.dump
    backup_objects.py put FILE KEY                    # multipart above BACKUP_PART_BYTES
    backup_objects.py get KEY FILE                    # verifies the sha256 recorded by put
    backup_objects.py latest PREFIX                   # prints the newest dump's key
    backup_objects.py prune PREFIX --retention-days N # deletes dumps older than N days

Used by pg-backup.sh and pg-restore.sh beside it; needs only Python and aiobotocore (any
packguard service image has both), so no aws-cli. Configuration is read from the same
variables as the services': S3_BUCKET, S3_ENDPOINT_URL (unset: AWS; DigitalOcean
Spaces: its region endpoint), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION.

A dump's time is in its key, and the key's time, not the object's LastModified, decides
its age: a copied or re-uploaded dump keeps its age, and only keys of that exact shape
are ever deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiobotocore.session import get_session
from botocore.config import Config

KEY_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
KEY_PATTERN = re.compile(r"(?:^|/)packguard-(?P<time>\d{8}T\d{6}Z)\.dump$")
SHA256_METADATA = "sha256"
DEFAULT_PART_BYTES = 64 * 1024 * 1024
MIN_PART_BYTES = 5 * 1024 * 1024  # S3's floor for every part but the last
DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys
CHUNK_BYTES = 1024 * 1024


def dump_key(prefix: str, now: datetime) -> str:
    """The key of a dump taken at `now` under `prefix`."""
    stamp = now.astimezone(UTC).strftime(KEY_TIME_FORMAT)
    return f"{prefix.rstrip('/')}/packguard-{stamp}.dump"


def dump_time(key: str) -> datetime | None:
    """When the dump at `key` was taken, or None when `key` is not a dump's."""
    match = KEY_PATTERN.search(key)
    if match is None:
        return None
    return datetime.strptime(match["time"], KEY_TIME_FORMAT).replace(tzinfo=UTC)


def expired_keys(keys: Iterable[str], *, now: datetime, retention_days: int) -> list[str]:
    """Dump keys taken more than `retention_days` before `now`, oldest first."""
    cutoff = now - timedelta(days=retention_days)
    dated = [(taken, key) for key in keys if (taken := dump_time(key)) is not None]
    return [key for taken, key in sorted(dated) if taken < cutoff]


def newest_key(keys: Iterable[str]) -> str | None:
    dated = [(taken, key) for key in keys if (taken := dump_time(key)) is not None]
    return max(dated)[1] if dated else None


def part_ranges(size: int, part_bytes: int) -> list[tuple[int, int]]:
    """(offset, length) of each multipart part; one part when `size` fits in one."""
    if size <= part_bytes:
        return [(0, size)]
    return [(offset, min(part_bytes, size - offset)) for offset in range(0, size, part_bytes)]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


@asynccontextmanager
async def s3_client() -> AsyncIterator[Any]:
    config = Config(
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        s3={"addressing_style": "path"},
    )
    async with get_session().create_client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=config,
    ) as client:
        yield client


async def put(client: Any, bucket: str, path: Path, key: str, part_bytes: int) -> None:
    size = path.stat().st_size
    metadata = {SHA256_METADATA: file_sha256(path)}
    ranges = part_ranges(size, part_bytes)
    if len(ranges) == 1:
        await client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), Metadata=metadata)
        return
    upload = await client.create_multipart_upload(Bucket=bucket, Key=key, Metadata=metadata)
    upload_id = upload["UploadId"]
    try:
        parts = []
        with path.open("rb") as handle:
            for number, (offset, length) in enumerate(ranges, start=1):
                handle.seek(offset)
                answer = await client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=handle.read(length),
                )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        await client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        # Parts of an abandoned upload are stored (and billed) until aborted.
        await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise


async def get(client: Any, bucket: str, key: str, path: Path) -> None:
    response = await client.get_object(Bucket=bucket, Key=key)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        async with response["Body"] as stream:
            while chunk := await stream.read(CHUNK_BYTES):
                handle.write(chunk)
                digest.update(chunk)
    expected = response.get("Metadata", {}).get(SHA256_METADATA)
    if expected and expected != digest.hexdigest():
        path.unlink()
        raise SystemExit(f"{key}: sha256 {digest.hexdigest()} != recorded {expected}")


async def list_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    paginator = client.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/"):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


async def prune(client: Any, bucket: str, prefix: str, *, now: datetime, days: int) -> list[str]:
    expired = expired_keys(await list_keys(client, bucket, prefix), now=now, retention_days=days)
    for start in range(0, len(expired), DELETE_BATCH):
        batch = expired[start : start + DELETE_BATCH]
        answer = await client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        if answer.get("Errors"):
            raise SystemExit(f"could not delete: {answer['Errors']}")
    return expired


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("key").add_argument("prefix")
    put_command = commands.add_parser("put")
    put_command.add_argument("file", type=Path)
    put_command.add_argument("key")
    get_command = commands.add_parser("get")
    get_command.add_argument("key")
    get_command.add_argument("file", type=Path)
    commands.add_parser("latest").add_argument("prefix")
    prune_command = commands.add_parser("prune")
    prune_command.add_argument("prefix")
    prune_command.add_argument("--retention-days", type=int, required=True)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    if args.command == "key":
        print(dump_key(args.prefix, now))
        return 0
    bucket = os.environ.get("S3_BUCKET")
    if not bucket:
        print("S3_BUCKET is not set", file=sys.stderr)
        return 2
    part_bytes = max(int(os.environ.get("BACKUP_PART_BYTES", DEFAULT_PART_BYTES)), MIN_PART_BYTES)
    async with s3_client() as client:
        if args.command == "put":
            await put(client, bucket, args.file, args.key, part_bytes)
        elif args.command == "get":
            await get(client, bucket, args.key, args.file)
        elif args.command == "latest":
            key = newest_key(await list_keys(client, bucket, args.prefix))
            if key is None:
                print(f"no dump under s3://{bucket}/{args.prefix}", file=sys.stderr)
                return 1
            print(key)
        else:
            for key in await prune(client, bucket, args.prefix, now=now, days=args.retention_days):
                print(f"deleted s3://{bucket}/{key}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args(sys.argv[1:]))))
