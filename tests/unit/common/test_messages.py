import contextlib
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packguard.common.messages import (
    MalformedMessage,
    TaskEvent,
    TaskMessage,
    decode_message,
    encode_message,
)
from packguard.common.report import AnalysisReport, ArtifactInfo, PackageInfo, Verdict


def _fields(encoded: dict[str, bytes]) -> dict[bytes, bytes]:
    return {key.encode(): value for key, value in encoded.items()}


def test_task_message_round_trips() -> None:
    task = TaskMessage(
        task_id=uuid4(),
        purl="pkg:pypi/six@1.16.0",
        priority=7,
        created_at=datetime.now(UTC),
        trace_context={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
    )
    assert decode_message(TaskMessage, _fields(encode_message(task))) == task


def test_large_event_is_compressed_and_round_trips() -> None:
    report = AnalysisReport(
        analyzer_version="0.1.0",
        package=PackageInfo(ecosystem="pypi", name="big", version="1"),
        artifacts=[ArtifactInfo(filename="big-1.tar.gz", size_bytes=1, sha256="0" * 64)],
        verdict=Verdict(label="benign", score=0),
        error="x" * 200_000,
    )
    event = TaskEvent(task_id=uuid4(), kind="completed", report=report)
    encoded = encode_message(event)
    assert set(encoded) == {"data_z"}
    assert len(encoded["data_z"]) < 10_000
    assert decode_message(TaskEvent, _fields(encoded)) == event


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {b"data": b"not json"},
        {b"data": b'{"task_id": "nope"}'},
        {b"data_z": b"not zlib"},
        {b"data": b'{"task_id": "' + str(uuid4()).encode() + b'", "kind": "exploded"}'},
    ],
)
def test_garbage_is_a_malformed_message(fields: dict[bytes, bytes]) -> None:
    with pytest.raises(MalformedMessage):
        decode_message(TaskEvent, fields)


@given(st.dictionaries(st.sampled_from([b"data", b"data_z", b"other"]), st.binary(max_size=64)))
def test_decoding_arbitrary_fields_raises_only_malformed_message(
    fields: dict[bytes, bytes],
) -> None:
    with contextlib.suppress(MalformedMessage):
        decode_message(TaskMessage, fields)
