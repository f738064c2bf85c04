"""The wiki commands end to end through click's CliRunner on real repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.serialize import dumps, load_path
from wikicore.store import LAYOUT_SHARDED, Wiki, path_of

from .conftest import SEED
from .support.wiki_helpers import article, with_claims

WIKI_COMMANDS = ["init", "import", "save", "list", "history", "diff", "blame", "mv", "show"]


@pytest.fixture
def wiki_path(tmp_path: Path, runner: CliRunner) -> Path:
    path = tmp_path / "wiki"
    result = runner.invoke(main, ["--wiki", str(path), "init"])
    assert result.exit_code == 0 and "initialised wiki" in result.output
    return path


def invoke(runner: CliRunner, wiki_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(main, ["--wiki", str(wiki_path), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout  # stderr carries warnings (an import's, for one)


@pytest.mark.parametrize("command", WIKI_COMMANDS)
def test_every_wiki_command_has_help_with_an_example(runner: CliRunner, command: str) -> None:
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_seed_import_then_edit_then_history_diff_and_blame(
    runner: CliRunner, wiki_path: Path, tmp_path: Path
) -> None:
    code, out = invoke(runner, wiki_path, "import", str(SEED), "--from", "text", "-m", "Import the seed",
                       "--author", "Ann Editor <ann@example.org>")
    assert code == 0
    slug, first = out.split()
    assert slug == "azerbaijan-russia-relations" and len(first) == 40
    assert invoke(runner, wiki_path, "list") == (0, f"{slug}\n")

    # Edit the stored article: change a claim's text and drop one claim's sources.
    code, stored = invoke(runner, wiki_path, "show", slug)
    assert code == 0
    edited_file = tmp_path / "edited.yaml"
    edited_file.write_text(stored, encoding="utf-8")
    edited = load_path(edited_file)
    data = edited.model_dump(exclude_defaults=True)
    claims = [c for p in data["lead"] for c in p["claims"]]
    claims[0]["text"] = claims[0]["text"].replace("二国間関係", "友好関係")
    edited_file.write_text(dumps(type(edited).model_validate(data)), encoding="utf-8")
    code, out = invoke(runner, wiki_path, "save", str(edited_file), "--base", first[:10], "-m", "Reword")
    assert code == 0
    second = out.split()[1]

    code, out = invoke(runner, wiki_path, "history", slug)
    assert code == 0 and out.splitlines()[0].startswith(second[:12]) and "Reword" in out and "Import the seed" in out
    code, out = invoke(runner, wiki_path, "history", slug, "--format", "json")
    history_json = json.loads(out)
    assert history_json["slug"] == slug and history_json["schema_version"] == 1
    assert [r["id"] for r in history_json["revisions"]] == [second, first]

    code, out = invoke(runner, wiki_path, "diff", slug)
    assert code == 0 and "[-二国間-]{+友好+}" in out
    code, out = invoke(runner, wiki_path, "diff", slug, first, second, "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["claims_changed"] == 1
    report = tmp_path / "review.html"
    code, _ = invoke(runner, wiki_path, "diff", slug, "HEAD~1", "--format", "html", "-o", str(report))
    assert code == 0 and "<ins>友好</ins>" in report.read_text(encoding="utf-8")

    code, out = invoke(runner, wiki_path, "blame", slug, "--format", "json")
    blamed = json.loads(out)["claims"]
    assert blamed[0]["text_changed"]["id"] == second and blamed[0]["introduced"]["id"] == first
    code, out = invoke(runner, wiki_path, "blame", slug, "--rev", "HEAD~1")
    assert code == 0 and f"introduced   {first[:12]}" in out and second[:12] not in out


def test_save_conflict_exits_3_naming_both_revisions(runner: CliRunner, wiki_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "foo.yaml"
    source.write_text(dumps(article()), encoding="utf-8")
    _code, out = invoke(runner, wiki_path, "save", str(source))
    base = out.split()[1]
    source.write_text(dumps(with_claims(article(), "Mine. ")), encoding="utf-8")
    assert invoke(runner, wiki_path, "save", str(source), "--base", base)[0] == 0
    with Wiki.open(wiki_path) as wiki:
        latest = wiki.latest("foo")
    assert latest is not None
    source.write_text(dumps(with_claims(article(), "Theirs. ")), encoding="utf-8")
    result = runner.invoke(main, ["--wiki", str(wiki_path), "save", str(source), "--base", base])
    assert result.exit_code == 3
    assert base in result.output and latest.id in result.output and "edit conflict" in result.output
    # Saving a new article over an existing one without --base is a conflict too.
    assert runner.invoke(main, ["--wiki", str(wiki_path), "save", str(source)]).exit_code == 3
    assert runner.invoke(main, ["--wiki", str(wiki_path), "import", str(source)]).exit_code == 3


def test_mv_and_history_after_it(runner: CliRunner, wiki_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "foo.yaml"
    source.write_text(dumps(article()), encoding="utf-8")
    invoke(runner, wiki_path, "import", str(source))
    code, out = invoke(runner, wiki_path, "mv", "foo", "bar")
    assert code == 0 and out.startswith("bar ")
    assert invoke(runner, wiki_path, "list")[1] == "bar\n"
    code, out = invoke(runner, wiki_path, "history", "bar")
    assert len(out.splitlines()) == 2 and f"({path_of('foo', LAYOUT_SHARDED)})" in out
    code, out = invoke(runner, wiki_path, "show", "bar", "--rev", "HEAD~1")
    assert code == 0 and "slug: foo" in out


def test_errors_are_one_line_with_documented_exit_codes(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nowiki"
    result = runner.invoke(main, ["--wiki", str(missing), "list"])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "wikicore init" in result.output
    wiki_path = tmp_path / "wiki"
    runner.invoke(main, ["--wiki", str(wiki_path), "init"])
    for args in (["history", "nope"], ["diff", "nope"], ["blame", "nope"], ["show", "nope"], ["mv", "a", "b"]):
        result = runner.invoke(main, ["--wiki", str(wiki_path), *args])
        assert result.exit_code == 2 and result.output.startswith("error: "), (args, result.output)
        assert result.output.count("\n") == 1
    result = runner.invoke(main, ["--wiki", str(wiki_path), "diff", "a", "1", "2", "3"])
    assert result.exit_code == 2


def test_wiki_from_environment(runner: CliRunner, wiki_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "foo.yaml"
    source.write_text(dumps(article()), encoding="utf-8")
    result = runner.invoke(main, ["import", str(source)], env={"WIKICORE_WIKI": str(wiki_path)})
    assert result.exit_code == 0
    assert runner.invoke(main, ["list"], env={"WIKICORE_WIKI": str(wiki_path)}).output == "foo\n"


def test_init_with_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wikicore.cli import main as cli_main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli_main, ["--wiki", "rel/wiki", "init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rel" / "wiki" / ".git").is_dir()
    assert not (tmp_path / "rel" / "wiki" / "rel").exists()
    assert CliRunner().invoke(cli_main, ["--wiki", "rel/wiki", "list"]).exit_code == 0


def test_a_plain_git_repository_is_not_written_to(tmp_path: Path) -> None:
    """--wiki defaults to '.', which is often a code repository: refuse it until `init --adopt` adopts it."""
    import subprocess

    code = tmp_path / "code"
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(code)], check=True)
    result = CliRunner().invoke(main, ["--wiki", str(code), "import", str(SEED), "--from", "text"])
    assert result.exit_code == 2
    assert "is a git repository but not a wiki" in result.stderr
    assert "`wikicore init --adopt`" in result.stderr  # the message names the explicit flag
    refs = subprocess.run(["git", "-C", str(code), "for-each-ref"], capture_output=True, text=True, check=True)
    assert refs.stdout == ""
    # A plain `init` does not adopt it behind the user's back: exit 2, one line, nothing written.
    refused = CliRunner().invoke(main, ["--wiki", str(code), "init"])
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "init --adopt" in refused.stderr
    assert not (code / ".wikicore").exists()
    listed = CliRunner().invoke(main, ["--wiki", str(code), "list"])
    assert listed.exit_code == 2 and "init --adopt" in listed.stderr
    assert CliRunner().invoke(main, ["--wiki", str(code), "init", "--adopt"]).exit_code == 0
    assert CliRunner().invoke(main, ["--wiki", str(code), "import", str(SEED), "--from", "text"]).exit_code == 0
