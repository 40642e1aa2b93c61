"""A self-contained HTML rendering of the OpenAPI document (no external assets)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; }
.op { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; padding: 0.5rem 1rem; }
.method { font-weight: bold; text-transform: uppercase; margin-right: 0.5rem; }
.get { color: #1565c0; } .post { color: #2e7d32; } .delete { color: #c62828; }
code, pre { background: #f5f5f5; padding: 0.1rem 0.3rem; }
pre { overflow-x: auto; padding: 0.5rem; }
"""


def _ref_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    return escape(ref.rsplit("/", 1)[-1]) if isinstance(ref, str) else escape(json.dumps(schema))


def _operation_html(path: str, method: str, operation: dict[str, Any]) -> str:
    lines = [
        f'<div class="op" id="{escape(operation["operationId"])}">',
        f'<p><span class="method {method}">{method}</span><code>{escape(path)}</code>'
        f" — {escape(operation['summary'])}"
        f"{'' if operation['security'] else ' <em>(no key needed)</em>'}</p>",
    ]
    if operation["parameters"]:
        items = "".join(
            f"<li><code>{escape(p['name'])}</code> ({escape(p['in'])}"
            f"{', required' if p.get('required') else ''})</li>"
            for p in operation["parameters"]
        )
        lines.append(f"<p>Parameters:</p><ul>{items}</ul>")
    body = operation.get("requestBody")
    if body is not None:
        media, content = next(iter(body["content"].items()))
        name = _ref_name(content["schema"])
        lines.append(
            f'<p>Body: <a href="#schema-{name}">{name}</a> <small>{escape(media)}</small></p>'
        )
    responses = []
    for status, response in operation["responses"].items():
        media, content = next(iter(response["content"].items()))
        name = _ref_name(content["schema"])
        responses.append(
            f"<li><b>{escape(status)}</b> {escape(response['description'])}: "
            f'<a href="#schema-{name}">{name}</a> <small>{escape(media)}</small></li>'
        )
    lines.append(f"<p>Responses:</p><ul>{''.join(responses)}</ul></div>")
    return "\n".join(lines)


def docs_html(document: dict[str, Any]) -> str:
    info = document["info"]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(info['title'])} API</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(info['title'])} API {escape(info['version'])}</h1>",
        f"<p>{escape(info['description'])}</p>",
        '<p>Machine-readable: <a href="openapi.json">openapi.json</a></p>',
        "<h2>Operations</h2>",
    ]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            parts.append(_operation_html(path, method, operation))
    parts.append("<h2>Schemas</h2>")
    for name, schema in document["components"]["schemas"].items():
        parts.append(
            f'<details id="schema-{escape(name)}"><summary><code>{escape(name)}</code></summary>'
            f"<pre>{escape(json.dumps(schema, indent=2))}</pre></details>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)
