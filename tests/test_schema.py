"""The committed JSON Schemas match the models, and stored articles validate against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from wikicore.schema import schema_text, schemas, write_schemas

from .conftest import ROOT


def test_committed_schemas_do_not_drift() -> None:
    generated = schemas()
    committed = {p.name.removesuffix(".schema.json") for p in (ROOT / "schemas").glob("*.schema.json")}
    assert committed == set(generated), "run `make schemas` and commit the result"
    for name, document in generated.items():
        path = ROOT / "schemas" / f"{name}.schema.json"
        assert path.read_text(encoding="utf-8") == schema_text(document), f"{path} drifted: run `make schemas`"


def test_every_bundled_article_validates_against_the_schema() -> None:
    schema = schemas()["article"]
    articles = sorted((ROOT / "articles").glob("*.yaml"))
    assert articles
    for path in articles:
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_schema_rejects_unknown_fields() -> None:
    schema = schemas()["article"]
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors({"slug": "a", "title": "t", "bogus": 1}))


def test_write_schemas(tmp_path: Path) -> None:
    paths = write_schemas(tmp_path)
    assert {p.name for p in paths} >= {"article.schema.json"}
    assert json.loads((tmp_path / "article.schema.json").read_text())["title"] == "Article"
