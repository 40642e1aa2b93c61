"""The JSON Schema documents other programs read, generated from the pydantic models.

    python -m packguard.common.schemas docs/schemas

writes ``report.v1.schema.json`` (the analysis report) and one file per stream message;
a test fails when the committed files differ from what the models generate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from packguard.common.messages import DeadLetter, TaskEvent, TaskMessage
from packguard.common.report import REPORT_SCHEMA_VERSION, AnalysisReport

DOCUMENTS: dict[str, type[BaseModel]] = {
    f"report.v{REPORT_SCHEMA_VERSION}.schema.json": AnalysisReport,
    "task-message.v1.schema.json": TaskMessage,
    "task-event.v1.schema.json": TaskEvent,
    "dead-letter.v1.schema.json": DeadLetter,
}


def render(model: type[BaseModel]) -> str:
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, model in DOCUMENTS.items():
        path = folder / filename
        path.write_text(render(model))
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(written_path)
