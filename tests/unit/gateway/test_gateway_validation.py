"""Request input checks: bodies, pagination, headers and paths (no sockets)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict
from pydantic import ValidationError

from packguard.common.api import MAX_DELAY_SECONDS, AnalyzeRequest, ReportQuery
from packguard.common.errors import InvalidInput, NotFound
from packguard.gateway.auth import is_key_required, presented_key
from packguard.gateway.bodies import idempotency_key_of, read_query, task_id_of, validated
from packguard.gateway.instrumentation import request_id_of


@pytest.mark.parametrize(
    "body",
    [
        {"purl": "pkg:pypi/six@1.16.0"},
        {"purl": "x", "priority": 10, "delay_seconds": MAX_DELAY_SECONDS, "force": True},
        {"purl": "x", "priority": 0, "delay_seconds": 0, "force": False},
    ],
)
def test_analyze_request_accepts(body: dict[str, Any]) -> None:
    assert AnalyzeRequest.model_validate(body).purl == body["purl"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "purl"),
        ({"purl": ""}, "purl"),
        ({"purl": "x" * 513}, "purl"),
        ({"purl": 1}, "purl"),
        ({"purl": "x", "priority": 11}, "priority"),
        ({"purl": "x", "priority": 1.5}, "priority"),
        ({"purl": "x", "priority": "1"}, "priority"),
        ({"purl": "x", "delay_seconds": MAX_DELAY_SECONDS + 1}, "delay_seconds"),
        ({"purl": "x", "force": 1}, "force"),
        ({"purl": "x", "extra": 1}, "extra"),
    ],
)
def test_analyze_request_rejects_with_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validated(AnalyzeRequest, body, what="request body")

    assert raised.value.code == "invalid_input"
    assert raised.value.fields is not None and field in raised.value.fields


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ReportQuery(page=1, page_size=20)),
        ({"page": "3", "page_size": "100"}, ReportQuery(page=3, page_size=100)),
        (
            {"status": "completed", "ecosystem": "npm", "verdict": "malicious"},
            ReportQuery.model_validate(
                {"status": "completed", "ecosystem": "npm", "verdict": "malicious"}
            ),
        ),
    ],
)
def test_report_query_accepts(query: dict[str, str], expected: ReportQuery) -> None:
    assert ReportQuery.model_validate(query) == expected


@pytest.mark.parametrize(
    ("query_string", "field"),
    [
        ("page_size=101", "page_size"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1e3", "page"),
        ("status=unknown", "status"),
        ("ecosystem=cargo", "ecosystem"),
        ("verdict=fine", "verdict"),
        ("order=desc", "order"),
    ],
)
def test_report_query_rejects_with_field(query_string: str, field: str) -> None:
    request = make_mocked_request("GET", f"/api/v1/reports/?{query_string}")

    with pytest.raises(InvalidInput) as raised:
        read_query(request, ReportQuery)

    assert raised.value.fields is not None and field in raised.value.fields


def test_report_query_is_immutable() -> None:
    with pytest.raises(ValidationError):
        ReportQuery().page = 2  # type: ignore[misc]


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("abc-123", "abc-123")])
def test_idempotency_key_of_accepts(value: str | None, expected: str | None) -> None:
    headers = CIMultiDict({"X-Idempotency-Key": value} if value is not None else {})
    request = make_mocked_request("POST", "/api/v1/analyze/", headers=headers)

    assert idempotency_key_of(request) == expected


@pytest.mark.parametrize("value", ["", " ", "a b", "x" * 256, "tab\there"])
def test_idempotency_key_of_rejects(value: str) -> None:
    request = make_mocked_request(
        "POST", "/api/v1/analyze/", headers=CIMultiDict({"X-Idempotency-Key": value})
    )

    with pytest.raises(InvalidInput):
        idempotency_key_of(request)


def test_task_id_of_parses_uuid() -> None:
    task_id = uuid4()
    request = make_mocked_request("GET", "/", match_info={"task_id": str(task_id)})

    assert task_id_of(request) == task_id


@pytest.mark.parametrize("raw", ["123", "not-a-uuid", "", "../etc"])
def test_task_id_of_non_uuid_is_not_found(raw: str) -> None:
    request = make_mocked_request("GET", "/", match_info={"task_id": raw})

    with pytest.raises(NotFound):
        task_id_of(request)


@pytest.mark.parametrize(
    ("path", "required"),
    [
        ("/api/v1/analyze/", True),
        ("/api/v1", True),
        ("/api/v1/unknown", True),
        ("/api/v1/openapi.json", False),
        ("/api/v1/docs", False),
        ("/health/", False),
        ("/metrics", False),
        ("/api/v10/x", False),
    ],
)
def test_is_key_required_table(path: str, required: bool) -> None:
    assert is_key_required(path) is required


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ({}, None),
        ({"Authorization": "Bearer abc"}, "abc"),
        ({"Authorization": "bearer  abc "}, "abc"),
        ({"Authorization": "Basic abc"}, ""),
        ({"X-API-Key": "abc"}, "abc"),
        ({"Authorization": "Bearer one", "X-API-Key": "two"}, "one"),
    ],
)
def test_presented_key_table(headers: dict[str, str], key: str | None) -> None:
    request = make_mocked_request("GET", "/api/v1/reports/", headers=CIMultiDict(headers))

    assert presented_key(request) == key


@pytest.mark.parametrize(
    ("header", "is_kept"),
    [("abc-123", True), ("a" * 128, True), ("a" * 129, False), ("a b", False), (None, False)],
)
def test_request_id_of_keeps_only_sane_ids(header: str | None, is_kept: bool) -> None:
    request_id = request_id_of(header)

    assert (request_id == header) is is_kept
    assert request_id
