"""Every JSON output names its schema and version, and validates against the committed schema (consumers rely on it)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner

from wikicore.audit import AuditReport, audit_articles
from wikicore.blame import Blame
from wikicore.cli import main
from wikicore.diff import ArticleDiff
from wikicore.report.diff import History
from wikicore.schema import SCHEMA_BASE, schemas
from wikicore.serialize import load_path

from .conftest import ROOT, SEED_ARTICLE
from .support.report_data import hostile_wiki


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """The JSON each command prints, for a wiki with a hostile history."""
    root = tmp_path_factory.mktemp("json")
    wiki, slug = hostile_wiki(root / "wiki")
    revisions = [rev.id for rev in wiki.history(slug)]
    runner = CliRunner()
    commands = {
        "audit": ["audit", slug, "--offline", "--fail-on", "never"],
        "diff": ["diff", slug, revisions[-1], revisions[0]],
        "blame": ["blame", slug],
        "history": ["history", slug],
    }
    found = {}
    for name, args in commands.items():
        result = runner.invoke(main, ["--wiki", str(root / "wiki"), *args, "--format", "json"])
        assert result.exit_code == 0, result.output
        found[name] = json.loads(result.stdout)
    return found


@pytest.mark.parametrize("name", ["audit", "diff", "blame", "history"])
def test_output_names_its_schema_and_validates(outputs: dict[str, dict[str, object]], name: str) -> None:
    data = outputs[name]
    schema = schemas()[name]
    assert list(data)[:2] == ["$schema", "schema_version"]  # first, where a reader looks
    assert data["$schema"] == schema["$id"] == f"{SCHEMA_BASE}{name}.schema.json"
    # Deliberate: audit went to version 2 when claims gained their citations (quote checks) and
    # references their drift; the other documents did not change.
    version = 2 if name == "audit" else 1
    assert data["schema_version"] == version
    jsonschema.validate(data, schema)
    # The schema holds the document to its own kind and version.
    for key, wrong in (("$schema", f"{SCHEMA_BASE}other.schema.json"), ("schema_version", version + 1)):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**data, key: wrong}, schema)


def test_outputs_read_back_into_the_library_records(outputs: dict[str, dict[str, object]]) -> None:
    models = {"audit": AuditReport, "diff": ArticleDiff, "blame": Blame, "history": History}
    for name, model in models.items():
        record = model.model_validate_json(json.dumps(outputs[name]))
        assert json.loads(record.model_dump_json()) == outputs[name]
    history = History.model_validate(outputs["history"])
    assert history.slug == "azerbaijan-russia-relations" and len(history.revisions) == 3


def test_committed_schemas_cover_blame_and_history() -> None:
    for name in ("blame", "history"):
        committed = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert committed == schemas()[name]
        assert committed["properties"]["$schema"]["const"] == committed["$id"]


def test_library_records_carry_the_fields_too() -> None:
    report = audit_articles([(load_path(SEED_ARTICLE), None)], offline=True)
    data = json.loads(report.model_dump_json())
    assert data["$schema"].endswith("/audit.schema.json") and data["schema_version"] == 2  # quotes and drift
