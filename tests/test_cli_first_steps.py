"""What a new user meets first: init, option order, re-imports, names and authors shown as they are."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.models import Article
from wikicore.serialize import dumps
from wikicore.store import Wiki
from wikicore.store.validate import _user_identity

from .conftest import SEED
from .support.wiki_helpers import article, git


def test_init_on_a_wiki_says_it_already_is_one(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "wiki"
    first = runner.invoke(main, ["--wiki", str(path), "init"])
    assert first.exit_code == 0 and first.stdout == f"initialised wiki at {path}\n"
    again = runner.invoke(main, ["--wiki", str(path), "init"])
    assert again.exit_code == 0 and again.stdout == f"{path} is already a wiki; nothing to do\n"


@pytest.mark.parametrize("option", [["--wiki", "somewhere"], ["--wiki=somewhere"], ["--debug"]])
def test_a_main_option_after_the_command_says_where_it_goes(runner: CliRunner, option: list[str]) -> None:
    result = runner.invoke(main, ["init", *option])
    assert result.exit_code == 2
    name = option[0].split("=")[0]
    assert f"No such option '{name}'" in result.stderr
    assert f"{name} goes before the command: `wikicore {name}" in result.stderr


def test_reimporting_the_same_file_says_no_change_without_warnings(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "wiki"
    runner.invoke(main, ["--wiki", str(path), "init"])
    first = runner.invoke(main, ["--wiki", str(path), "import", str(SEED), "--from", "text"])
    assert first.exit_code == 0 and "warning: " in first.stderr
    slug, revision = first.stdout.split()
    again = runner.invoke(main, ["--wiki", str(path), "import", str(SEED), "--from", "text"])
    assert again.exit_code == 0 and again.stdout == f"no change: {slug} is at {revision}\n"
    assert again.stderr == ""


def _git_config(home: Path, name: str | None, email: str | None) -> None:
    config = home / ".gitconfig"
    lines = ["[user]"] + ([f"\tname = {name}"] if name else []) + ([f"\temail = {email}"] if email else [])
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_default_author_is_git_config_user(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                request: pytest.FixtureRequest) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _git_config(home, "Ann Editor", "ann@example.org")
    monkeypatch.setenv("HOME", str(home))
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL",
                "GIT_CONFIG_GLOBAL", "XDG_CONFIG_HOME", "GIT_CONFIG_NOSYSTEM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    _user_identity.cache_clear()  # read once per process: this test changes who the user is
    request.addfinalizer(_user_identity.cache_clear)
    path = tmp_path / "wiki"
    runner.invoke(main, ["--wiki", str(path), "init"])
    source = tmp_path / "foo.yaml"
    source.write_text(dumps(article()), encoding="utf-8")
    assert runner.invoke(main, ["--wiki", str(path), "import", str(source)]).exit_code == 0
    assert git(path, "log", "-1", "--format=%an <%ae>", "main").strip() == "Ann Editor <ann@example.org>"
    # An explicit --author still wins.
    bar = tmp_path / "bar.yaml"
    bar.write_text(dumps(article("bar")), encoding="utf-8")
    assert runner.invoke(main, ["--wiki", str(path), "import", str(bar), "--author", "Bo <bo@example.org>"]
                         ).exit_code == 0
    assert git(path, "log", "-1", "--format=%an <%ae>", "main").strip() == "Bo <bo@example.org>"


def test_history_shows_an_author_without_mail_by_name(runner: CliRunner, tmp_path: Path) -> None:
    from .test_dump import dump_xml

    dump = tmp_path / "dump.xml"
    dump.write_text(dump_xml([("Foo", 0, [("1", "2001-01-15T13:15:00Z", "Editor1", "Create", "Foo is.")])]),
                    encoding="utf-8")
    path = tmp_path / "wiki"
    Wiki.init(path).close()
    assert runner.invoke(main, ["--wiki", str(path), "import-dump", str(dump), "--all-revisions"]).exit_code == 0
    shown = runner.invoke(main, ["--wiki", str(path), "history", "foo"])
    assert shown.exit_code == 0, shown.output
    assert " Editor1  " in shown.stdout and "<>" not in shown.stdout


def test_show_text_underlines_headings_at_their_display_width() -> None:
    from wikicore.exporters.text import render_text

    a = Article.model_validate({
        "slug": "foo", "title": "Foo bar", "lead": [{"claims": [{"text": "A. "}]}],
        "sections": [{"id": "s-1", "heading": "History", "paragraphs": [{"claims": [{"text": "B. "}]}]},
                     {"id": "s-2", "heading": "東京", "paragraphs": [{"claims": [{"text": "C. "}]}]}],
    })
    lines = render_text(a).splitlines()
    assert lines[:2] == ["Foo bar", "======="]
    assert lines[lines.index("1 History") + 1] == "-" * len("1 History")
    assert lines[lines.index("2 東京") + 1] == "------"  # two wide characters take two columns each
