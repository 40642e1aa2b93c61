"""The OpenAPI document is generated from the api models and covers every route."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from packguard.gateway.docs_page import docs_html
from packguard.gateway.openapi import OPERATIONS, openapi_document
from packguard.gateway.routes import ROUTE_HANDLERS

HEALTH_ROUTES = {"health", "ready", "metrics"}  # served by packguard.common.health


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_openapi_document_is_json_of_version_3_1(document: dict[str, Any]) -> None:
    assert json.loads(json.dumps(document)) == document
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "packguard"


def test_openapi_every_operation_is_a_path(document: dict[str, Any]) -> None:
    documented = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    assert documented == {(op.method, op.path) for op in OPERATIONS}
    assert {
        ("POST", "/api/v1/analyze/"),
        ("GET", "/api/v1/task/{task_id}/"),
        ("DELETE", "/api/v1/task/{task_id}/"),
        ("GET", "/api/v1/task/{task_id}/report/"),
        ("GET", "/api/v1/reports/"),
        ("GET", "/api/v1/queue/status/"),
        ("GET", "/health/"),
        ("GET", "/ready/"),
        ("GET", "/metrics"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/docs"),
    } <= documented


def test_openapi_every_operation_has_a_handler() -> None:
    ids = {op.operation_id for op in OPERATIONS}

    assert ids == set(ROUTE_HANDLERS) | HEALTH_ROUTES


def test_openapi_every_ref_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    refs = _refs(document)

    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in schemas


def test_openapi_schemas_are_valid_json_schema(document: dict[str, Any]) -> None:
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_openapi_analyze_request_comes_from_the_model(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["AnalyzeRequest"]

    assert schema["additionalProperties"] is False
    assert schema["required"] == ["purl"]
    assert schema["properties"]["priority"]["maximum"] == 10
    analyze = document["paths"]["/api/v1/analyze/"]["post"]
    assert {"200", "202", "400", "401", "409", "413", "415", "429"} <= set(analyze["responses"])
    assert any(p["name"] == "X-Idempotency-Key" for p in analyze["parameters"])


def test_openapi_reports_query_parameters_are_bounded(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/reports/"]["get"]["parameters"]}

    assert set(parameters) == {"page", "page_size", "status", "ecosystem", "verdict"}
    assert parameters["page_size"]["schema"]["maximum"] == 100


def test_openapi_security_only_on_authenticated_routes(document: dict[str, Any]) -> None:
    paths = document["paths"]

    assert paths["/api/v1/task/{task_id}/"]["get"]["security"]
    assert paths["/api/v1/openapi.json"]["get"]["security"] == []
    assert paths["/health/"]["get"]["security"] == []
    assert "401" not in paths["/health/"]["get"]["responses"]


def test_docs_html_lists_every_path_and_schema(document: dict[str, Any]) -> None:
    html = docs_html(document)

    for path in document["paths"]:
        assert path.replace("{", "{") in html
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "<script" not in html and "http" not in html.split("<body>")[0]


def test_docs_html_escapes_text(document: dict[str, Any]) -> None:
    hostile = document | {"info": document["info"] | {"title": "<script>x</script>"}}

    assert "<script>x" not in docs_html(hostile)
