"""Export the JSON Schemas of wikicore's stored and reported formats.

The committed files under ``schemas/`` are generated from the models by
:func:`write_schemas`; a test regenerates them and fails when they drift, so
editors validating against them never see a schema older than the code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .errors import InvalidInput
from .models import Article
from .output import write_file

__all__ = ["SCHEMAS", "schema_text", "schemas", "write_schemas"]

SCHEMA_BASE = "https://wikicore.invalid/schemas/"


def _article() -> type[BaseModel]:
    return Article


def _audit() -> type[BaseModel]:
    from .audit.report import AuditReport

    return AuditReport


def _diff() -> type[BaseModel]:
    from .diff import ArticleDiff

    return ArticleDiff


def _blame() -> type[BaseModel]:
    from .blame import Blame

    return Blame


def _history() -> type[BaseModel]:
    from .report.diff import History

    return History


#: Schema name -> function returning the model it describes; functions keep imports lazy.
#: Every JSON output (audit, diff, blame, history) names its schema in a ``$schema`` field
#: holding that schema's ``$id`` (``SCHEMA_BASE + name + ".schema.json"``) and carries
#: ``schema_version``; the article files carry a relative ``$schema`` path instead.
SCHEMAS: dict[str, Callable[[], type[BaseModel]]] = {
    "article": _article,
    "audit": _audit,
    "diff": _diff,
    "blame": _blame,
    "history": _history,
}


def schemas() -> dict[str, dict[str, Any]]:
    """Every schema by name, as JSON-compatible dicts."""
    result: dict[str, dict[str, Any]] = {}
    for name, model in sorted(SCHEMAS.items()):
        schema = model().model_json_schema(mode="validation")
        document: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{SCHEMA_BASE}{name}.schema.json",
        }
        if name == "article":
            # Stored files carry a `$schema` pointer for editors; allow it.
            schema.setdefault("properties", {})["$schema"] = {"type": "string"}
            schema["properties"] = {"$schema": schema["properties"].pop("$schema"), **schema["properties"]}
        document.update(schema)
        result[name] = document
    return result


def schema_text(document: dict[str, Any]) -> str:
    """Deterministic JSON text for a schema document."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def write_schemas(out: Path) -> list[Path]:
    """Write ``<name>.schema.json`` for every schema into ``out``; return the paths."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # `--out /proc/nope`: bad input, one line, exit 2, never a traceback
        raise InvalidInput(f"{out}: cannot create directory: {(error.strerror or str(error)).lower()}") from None
    written = []
    for name, document in schemas().items():
        path = out / f"{name}.schema.json"
        write_file(path, schema_text(document))
        written.append(path)
    return written
