"""The edit loop (no edit lost between show and save): show records its revision, save uses it, no trap in between."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from wikicore.cli import main
from wikicore.serialize import dumps, load_path, loads
from wikicore.store import Wiki

from .conftest import SEED, SEED_ARTICLE
from .support.wiki_helpers import article, git, tip, with_claims


@pytest.fixture
def wiki_path(tmp_path: Path, runner: CliRunner) -> Path:
    path = tmp_path / "wiki"
    assert runner.invoke(main, ["--wiki", str(path), "init"]).exit_code == 0
    return path


def run(runner: CliRunner, wiki_path: Path, *args: str) -> Result:
    result = runner.invoke(main, ["--wiki", str(wiki_path), *args])
    assert "Traceback" not in result.output
    return result


def _commits(wiki_path: Path) -> int:
    return int(git(wiki_path, "rev-list", "--count", "main").strip())


@pytest.fixture
def foo(runner: CliRunner, wiki_path: Path, tmp_path: Path) -> str:
    """A wiki holding article `foo`; returns its revision."""
    source = tmp_path / "foo-new.yaml"
    source.write_text(dumps(article()), encoding="utf-8")
    result = run(runner, wiki_path, "import", str(source))
    assert result.exit_code == 0, result.output
    return result.stdout.split()[1]


def test_show_records_the_revision_in_yaml_and_json(runner: CliRunner, wiki_path: Path, foo: str,
                                                     tmp_path: Path) -> None:
    shown = run(runner, wiki_path, "show", "foo").stdout
    assert shown.splitlines()[:4] == [
        "$schema: ../schemas/article.schema.json", "schema_version: 1", f"revision: {foo}", "slug: foo",
    ]
    as_json = json.loads(run(runner, wiki_path, "show", "foo", "--format", "json").stdout)
    assert as_json["revision"] == foo
    assert "revision" not in run(runner, wiki_path, "show", "foo", "--format", "text").stdout

    # validate and convert accept it; convert carries it from YAML to JSON and back.
    (tmp_path / "foo.yaml").write_text(shown, encoding="utf-8")
    assert run(runner, wiki_path, "validate", str(tmp_path / "foo.yaml")).exit_code == 0
    converted = run(runner, wiki_path, "convert", str(tmp_path / "foo.yaml"), "--to", "json")
    assert converted.exit_code == 0 and json.loads(converted.stdout)["revision"] == foo
    (tmp_path / "foo.json").write_text(converted.stdout, encoding="utf-8")
    assert run(runner, wiki_path, "convert", str(tmp_path / "foo.json")).stdout == shown
    assert load_path(tmp_path / "foo.json").revision == foo


def test_the_revision_is_not_content(runner: CliRunner, wiki_path: Path, foo: str, tmp_path: Path) -> None:
    shown = run(runner, wiki_path, "show", "foo").stdout
    loaded = loads(shown)
    assert loaded.revision == foo
    assert dumps(loaded) == dumps(article())  # not written unless asked: stored bytes stay the same
    assert "revision" not in loaded.model_dump()
    with Wiki.open(wiki_path) as wiki:
        assert "revision" not in wiki.load_text("foo")
        assert wiki.load("foo").revision is None
    # Golden files keep their bytes: no revision recorded, none written.
    assert dumps(load_path(SEED_ARTICLE)) == SEED_ARTICLE.read_text(encoding="utf-8")


def test_save_without_base_uses_the_recorded_revision(runner: CliRunner, wiki_path: Path, foo: str,
                                                      tmp_path: Path) -> None:
    edited = tmp_path / "foo.yaml"
    shown = loads(run(runner, wiki_path, "show", "foo").stdout)
    edited.write_text(dumps(with_claims(shown, "Mine. "), revision=foo), encoding="utf-8")
    result = run(runner, wiki_path, "save", str(edited), "-m", "Mine")
    assert result.exit_code == 0, result.output
    slug, second = result.stdout.split()
    assert slug == "foo" and second != foo
    with Wiki.open(wiki_path) as wiki:
        assert "Mine." in wiki.load_text("foo") and "revision" not in wiki.load_text("foo")
        assert [r.id for r in wiki.history("foo")] == [second, foo]


def test_a_stale_recorded_revision_is_an_edit_conflict_naming_both(runner: CliRunner, wiki_path: Path, foo: str,
                                                                  tmp_path: Path) -> None:
    mine, theirs = tmp_path / "mine.yaml", tmp_path / "theirs.yaml"
    shown = run(runner, wiki_path, "show", "foo").stdout
    mine.write_text(dumps(with_claims(loads(shown), "Mine. "), revision=foo), encoding="utf-8")
    theirs.write_text(dumps(with_claims(loads(shown), "Theirs. "), revision=foo), encoding="utf-8")
    first = run(runner, wiki_path, "save", str(theirs))
    assert first.exit_code == 0
    latest = first.stdout.split()[1]
    before = _commits(wiki_path)
    result = run(runner, wiki_path, "save", str(mine))
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "edit conflict" in result.stderr
    assert foo in result.stderr and latest in result.stderr
    assert _commits(wiki_path) == before


def test_an_explicit_base_wins(runner: CliRunner, wiki_path: Path, foo: str, tmp_path: Path) -> None:
    edited = tmp_path / "foo.yaml"
    first = with_claims(article(), "One. ")
    edited.write_text(dumps(first, revision=foo), encoding="utf-8")
    second = run(runner, wiki_path, "save", str(edited)).stdout.split()[1]
    # The file still records `foo`; an explicit --base of the latest revision wins over it...
    edited.write_text(dumps(with_claims(first, "Two. "), revision=foo), encoding="utf-8")
    assert run(runner, wiki_path, "save", str(edited), "--base", second).exit_code == 0
    # ...and an explicit stale --base wins over a file recording the latest.
    with Wiki.open(wiki_path) as wiki:
        latest = wiki.latest("foo")
    assert latest is not None
    newest = latest.id
    edited.write_text(dumps(with_claims(first, "Three. "), revision=newest), encoding="utf-8")
    result = run(runner, wiki_path, "save", str(edited), "--base", foo)
    assert result.exit_code == 3 and foo in result.stderr and newest in result.stderr


def test_a_save_that_changes_nothing_says_so_and_makes_no_revision(runner: CliRunner, wiki_path: Path, foo: str,
                                                                   tmp_path: Path) -> None:
    shown = tmp_path / "foo.yaml"
    shown.write_text(run(runner, wiki_path, "show", "foo").stdout, encoding="utf-8")
    before = _commits(wiki_path)
    result = run(runner, wiki_path, "save", str(shown))
    assert result.exit_code == 0 and result.stdout == f"no change: foo is at {foo}\n"
    # Saving the same edit twice: the second save changes nothing (no conflict with one's own save).
    shown.write_text(dumps(with_claims(loads(shown.read_text(encoding="utf-8")), "New. "), revision=foo),
                     encoding="utf-8")
    second = run(runner, wiki_path, "save", str(shown))
    assert second.exit_code == 0 and not second.stdout.startswith("no change")
    again = run(runner, wiki_path, "save", str(shown))
    assert again.exit_code == 0 and again.stdout.startswith("no change: foo is at ")
    assert _commits(wiki_path) == before + 1


def test_reimporting_says_the_article_exists(runner: CliRunner, wiki_path: Path, tmp_path: Path) -> None:
    first = run(runner, wiki_path, "import", str(SEED), "--from", "text")
    assert first.exit_code == 0
    slug, revision = first.stdout.split()
    before = _commits(wiki_path)
    # The same input again: nothing to do.
    again = run(runner, wiki_path, "import", str(SEED), "--from", "text")
    assert again.exit_code == 0 and again.stdout == f"no change: {slug} is at {revision}\n"
    # A different article under the same slug: exit 3, and no talk of a "new article" it was edited from.
    other = tmp_path / "other.yaml"
    other.write_text(dumps(article(slug=slug, title="Something else")), encoding="utf-8")
    result = run(runner, wiki_path, "import", str(other))
    assert result.exit_code == 3
    assert "(new article)" not in result.stderr and "edited from" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert f"{slug!r} already exists" in result.stderr and revision in result.stderr
    assert _commits(wiki_path) == before


def test_import_warnings_go_to_the_commit_not_the_article(runner: CliRunner, wiki_path: Path) -> None:
    result = run(runner, wiki_path, "import", str(SEED), "--from", "text", "-m", "Import the seed")
    assert result.exit_code == 0
    assert "warning: 20 of 20 references have no url: the input kept none" in result.stderr  # seen at import
    slug = result.stdout.split()[0]
    with Wiki.open(wiki_path) as wiki:
        stored = wiki.load(slug)
    assert stored.source is not None and stored.source.warnings == []
    message = git(wiki_path, "log", "-1", "--format=%B", "main")
    assert message.startswith("Import the seed\n\nImport warnings:\n")
    assert "- 20 of 20 references have no url: the input kept none\n" in message
    audit = run(runner, wiki_path, "audit", slug, "--offline", "--format", "json", "--fail-on", "never")
    assert audit.exit_code == 0
    codes = {p["code"] for a in json.loads(audit.stdout)["articles"] for p in a["problems"]}
    assert "source-warning" not in codes
    assert "see-also-missing" in codes  # article-level findings are there; the import's warnings are not


def test_convert_repeats_warnings_only_when_it_imports(runner: CliRunner) -> None:
    imported = runner.invoke(main, ["convert", str(SEED), "--from", "text"])
    assert "warning: " in imported.stderr
    converted = runner.invoke(main, ["convert", str(SEED_ARTICLE), "--to", "json"])
    assert converted.exit_code == 0 and converted.stderr == ""


BAD_URL = "127.0.0.1:8999/missing"


def test_validate_refuses_what_audit_calls_malformed(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    refs = [{"id": "ref-1", "type": "web", "title": "T", "url": "https://example.org/ok"},
            {"id": "ref-2", "type": "web", "title": "U", "url": BAD_URL}]
    bad.write_text(dumps(article(claims=[{"text": "A. ", "citations": [{"ref": "ref-1"}, {"ref": "ref-2"}]}],
                                 refs=refs)), encoding="utf-8")
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {bad}: references[1].url: url {BAD_URL!r} has no scheme (http:// or https://)\n"
    audit = runner.invoke(main, ["audit", str(bad), "--offline", "--format", "json"])
    findings = [p for a in json.loads(audit.stdout)["articles"] for r in a["references"] for p in r["problems"]]
    assert [f["code"] for f in findings if BAD_URL in f["message"]] == ["url-malformed"]


@pytest.mark.parametrize("value", ["HEAD", "HEAD~1", "--all", "abc", "ABCDEF12", "0" * 65])
def test_a_recorded_revision_must_be_a_commit_id(runner: CliRunner, tmp_path: Path, value: str) -> None:
    path = tmp_path / "a.json"
    data = json.loads(dumps(article(), "json"))
    path.write_text(json.dumps({**data, "revision": value}), encoding="utf-8")
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {path}: revision: invalid revision")


def test_show_rev_records_the_resolved_commit(runner: CliRunner, wiki_path: Path, foo: str, tmp_path: Path) -> None:
    edited = tmp_path / "foo.yaml"
    edited.write_text(dumps(with_claims(article(), "Later. "), revision=foo), encoding="utf-8")
    assert run(runner, wiki_path, "save", str(edited)).exit_code == 0
    old = run(runner, wiki_path, "show", "foo", "--rev", foo[:8])
    assert f"revision: {foo}\n" in old.stdout and "Later." not in old.stdout


def test_saving_a_new_article_over_an_existing_one_says_it_exists(runner: CliRunner, wiki_path: Path, foo: str,
                                                                  tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(dumps(with_claims(article(), "Different. ")), encoding="utf-8")  # no revision recorded
    result = run(runner, wiki_path, "save", str(other))
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: edit conflict on 'foo': saved as a new article, but it already exists (latest revision {foo}); "
        "save an edit of it with --base\n"
    )


def test_show_rev_tilde_records_the_articles_own_revision(runner: CliRunner, wiki_path: Path, foo: str,
                                                          tmp_path: Path) -> None:
    edited = tmp_path / "foo.yaml"
    edited.write_text(dumps(with_claims(article(), "Later. "), revision=foo), encoding="utf-8")
    later = run(runner, wiki_path, "save", str(edited)).stdout.split()[1]
    other = tmp_path / "bar.yaml"
    other.write_text(dumps(article("bar")), encoding="utf-8")
    assert run(runner, wiki_path, "import", str(other)).exit_code == 0  # a commit of another article
    assert f"revision: {foo}\n" in run(runner, wiki_path, "show", "foo", "--rev", "~1").stdout
    assert f"revision: {later}\n" in run(runner, wiki_path, "show", "foo", "--rev", "~0").stdout


def test_revision_takes_no_part_in_equality() -> None:
    plain = article()
    assert plain.model_copy(update={"revision": "ab" * 20}) == plain
    assert loads(dumps(plain, revision="cd" * 20)) == plain
    assert with_claims(plain, "More. ") != plain  # content still counts


def _edit(path: Path, text: str) -> None:
    """What a user does in an editor: change one claim's text, nothing else."""
    old = path.read_text(encoding="utf-8")
    new = old.replace("text: '", f"text: '{text} ", 1) if path.suffix == ".yaml" else \
        old.replace('"text": "', f'"text": "{text} ', 1)
    assert new != old
    path.write_text(new, encoding="utf-8")


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_save_edit_save_edit_save_on_one_file_never_conflicts(runner: CliRunner, wiki_path: Path, foo: str,
                                                              tmp_path: Path, suffix: str) -> None:
    edited = tmp_path / f"foo.{suffix}"
    fmt = [] if suffix == "yaml" else ["--format", "json"]
    edited.write_text(run(runner, wiki_path, "show", "foo", *fmt).stdout, encoding="utf-8")
    revisions = [foo]
    for n in range(3):
        _edit(edited, f"Edit {n}.")
        before = edited.read_text(encoding="utf-8")
        result = run(runner, wiki_path, "save", str(edited), "-m", f"Edit {n}")
        assert result.exit_code == 0, result.output
        slug, revision = result.stdout.split()
        assert slug == "foo" and revision not in revisions
        # One line says the file moved on; the file's other bytes are as the user left them.
        assert result.stderr == f"note: {edited}: recorded revision {revision} (was {revisions[-1]})\n"
        assert edited.read_text(encoding="utf-8") == before.replace(revisions[-1], revision)
        assert load_path(edited).revision == revision
        revisions.append(revision)
    with Wiki.open(wiki_path) as wiki:
        assert [r.id for r in wiki.history("foo")] == revisions[::-1]
        assert "Edit 2. Edit 1. Edit 0. A first claim." in wiki.load_text("foo")


def test_a_second_writer_between_two_saves_still_conflicts(runner: CliRunner, wiki_path: Path, foo: str,
                                                           tmp_path: Path) -> None:
    mine, theirs = tmp_path / "mine.yaml", tmp_path / "theirs.yaml"
    shown = run(runner, wiki_path, "show", "foo").stdout
    mine.write_text(shown, encoding="utf-8")
    theirs.write_text(shown, encoding="utf-8")
    _edit(mine, "Mine.")
    first = run(runner, wiki_path, "save", str(mine))
    assert first.exit_code == 0
    mine_rev = first.stdout.split()[1]
    _edit(theirs, "Theirs.")  # a second writer, who showed the same revision, saves from another copy...
    assert run(runner, wiki_path, "save", str(theirs), "--base", mine_rev).exit_code == 0
    latest = tip(wiki_path)
    _edit(mine, "Mine again.")  # ...so my next save from my file is stale: exit 3, nothing saved, file kept
    kept = mine.read_text(encoding="utf-8")
    before = _commits(wiki_path)
    result = run(runner, wiki_path, "save", str(mine))
    assert result.exit_code == 3
    assert mine_rev in result.stderr and latest in result.stderr
    # The one line ends with the commands that resolve the conflict.
    assert result.stderr.count("\n") == 1
    assert result.stderr.endswith(
        f"; see the other edit: `wikicore --wiki {wiki_path} diff foo {mine_rev[:12]} {latest[:12]}`, "
        f"or start again from it: `wikicore --wiki {wiki_path} show foo`\n")
    assert _commits(wiki_path) == before
    assert mine.read_text(encoding="utf-8") == kept


def test_save_no_update_keeps_the_file(runner: CliRunner, wiki_path: Path, foo: str, tmp_path: Path) -> None:
    edited = tmp_path / "foo.yaml"
    edited.write_text(run(runner, wiki_path, "show", "foo").stdout, encoding="utf-8")
    _edit(edited, "Mine.")
    kept = edited.read_bytes()
    result = run(runner, wiki_path, "save", str(edited), "--no-update")
    assert result.exit_code == 0 and result.stderr == ""
    assert edited.read_bytes() == kept


def test_save_records_the_revision_in_a_file_that_had_none(runner: CliRunner, wiki_path: Path,
                                                           tmp_path: Path) -> None:
    new = tmp_path / "bar.yaml"
    text = "# my notes, kept\n" + dumps(article("bar"))
    new.write_text(text, encoding="utf-8")
    result = run(runner, wiki_path, "save", str(new))
    assert result.exit_code == 0, result.output
    revision = result.stdout.split()[1]
    assert result.stderr == f"note: {new}: recorded revision {revision}\n"
    assert new.read_text(encoding="utf-8") == text.replace("schema_version: 1\n",
                                                           f"schema_version: 1\nrevision: {revision}\n")
    _edit(new, "Then.")
    assert run(runner, wiki_path, "save", str(new)).exit_code == 0


def test_import_dir_puts_warnings_in_the_commit_not_the_articles(runner: CliRunner, wiki_path: Path,
                                                                 tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "seed.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (batch / "bar.yaml").write_text(dumps(article("bar")), encoding="utf-8")
    result = run(runner, wiki_path, "import", str(batch), "-m", "Import the batch")
    assert result.exit_code == 0, result.output
    warning = "20 of 20 references have no url: the input kept none"
    assert f"warning: {batch / 'seed.txt'}: {warning}\n" in result.stderr
    slug = next(s for s, _ in (line.split() for line in result.stdout.splitlines()) if s != "bar")
    with Wiki.open(wiki_path) as wiki:
        stored = wiki.load(slug)
    assert stored.source is not None and stored.source.warnings == []
    message = git(wiki_path, "log", "-1", "--format=%B", "main")
    assert message.startswith("Import the batch\n\nImport warnings:\n")
    assert f"- {batch / 'seed.txt'}: {warning}\n" in message
