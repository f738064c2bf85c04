"""The file commands: convert, validate, show, schema; exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main

from .conftest import ROOT, SEED, SEED_ARTICLE


def test_convert_seed_to_json(runner: CliRunner) -> None:
    result = runner.invoke(main, ["convert", str(SEED), "--from", "text", "--to", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["references"]) == 20
    assert len(data["sections"]) == 5 and len(data["sections"][0]["sections"]) == 4
    assert len(data["see_also"]) == 7
    assert "warning: no claim cites a reference" in result.stderr


def test_convert_to_file_is_atomic_and_matches_committed(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "a.yaml"
    result = runner.invoke(main, ["convert", str(SEED), "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8") == SEED_ARTICLE.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]


def test_convert_yaml_to_json_and_back(runner: CliRunner, tmp_path: Path) -> None:
    as_json = tmp_path / "a.json"
    assert runner.invoke(main, ["convert", str(SEED_ARTICLE), "--to", "json", "-o", str(as_json)]).exit_code == 0
    back = runner.invoke(main, ["convert", str(as_json), "--to", "yaml"])
    assert back.stdout == SEED_ARTICLE.read_text(encoding="utf-8")


WIKITEXT_SAMPLE = ROOT / "tests" / "data" / "wikitext" / "basic_sections.wiki"


@pytest.mark.parametrize("source", [SEED, SEED_ARTICLE, WIKITEXT_SAMPLE], ids=["text", "yaml", "wikitext"])
def test_convert_with_bad_slug_is_exit_2(runner: CliRunner, source: Path) -> None:
    """Every importer checks --slug itself: one line, exit 2, whatever the input format."""
    result = runner.invoke(main, ["convert", str(source), "--slug", "../etc/passwd"])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "path separator" in result.stderr


def test_missing_file_and_directory_output(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["convert", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2 and "no such file" in result.stderr
    result = runner.invoke(main, ["convert", str(SEED), "-o", str(tmp_path / "missing" / "x.yaml")])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_validate_many(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: a\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(SEED_ARTICLE), str(bad)])
    assert result.exit_code == 2
    assert f"{SEED_ARTICLE}: ok" in result.stdout
    assert result.stderr.strip() == f"error: {bad}:1: title: required field is missing"


def test_show_text(runner: CliRunner) -> None:
    result = runner.invoke(main, ["show", str(SEED_ARTICLE), "--format", "text"])
    assert result.exit_code == 0
    assert "1.1 先史時代" in result.stdout
    assert "   20. ZulfugarAgayev (2013-08-13)" in result.stdout


def test_schema_command(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0 and (tmp_path / "article.schema.json").exists()


def test_usage_error_is_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(main, ["convert"]).exit_code == 2
    assert runner.invoke(main, ["convert", str(SEED), "--to", "pdf"]).exit_code == 2


def test_every_command_has_help_with_an_example(runner: CliRunner) -> None:
    for name, command in main.commands.items():
        assert command.help and "Example" in command.help, f"{name} lacks help with an example"
        assert runner.invoke(main, [name, "--help"]).exit_code == 0


def test_shim_and_module_entry_points() -> None:
    for argv in ([sys.executable, str(ROOT / "cli.py"), "--version"], [sys.executable, "-m", "wikicore", "--version"]):
        out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT)
        assert "wikicore, version" in out.stdout
