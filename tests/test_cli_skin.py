"""The CLI is a skin over the library: shared options, decisions in the library, lazy imports, completion."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from wikicore.audit import audit_cache_path
from wikicore.cli import main
from wikicore.errors import InvalidInput
from wikicore.net import CheckConfig
from wikicore.serialize import dumps
from wikicore.store import Wiki

from .conftest import SEED, SEED_ARTICLE
from .support.wiki_helpers import article

#: What `--help`, `--version` and completion must not pay for at start.
HEAVY = ("pydantic", "yaml", "git", "requests", "urllib3", "mwparserfromhell", "stdnum", "waybackpy")


def _loaded_after(args: list[str], watch: tuple[str, ...] = HEAVY) -> list[str]:
    """Run the CLI in a fresh interpreter and list the top-level modules of ``watch`` it imported."""
    code = textwrap.dedent(
        f"""
        import sys
        from wikicore.cli import main
        try:
            main({args!r}, prog_name="wikicore")
        except SystemExit:
            pass
        print(sorted({{m.split(".")[0] for m in sys.modules}} & set({watch!r})), file=sys.stderr)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    return json.loads(done.stderr.strip().splitlines()[-1].replace("'", '"'))


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["show", "--help"], ["audit", "--help"]])
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    assert _loaded_after(args) == []


def test_file_commands_load_no_git_or_network_client(tmp_path: Path) -> None:
    loaded = _loaded_after(["convert", str(SEED), "--from", "text", "-o", str(tmp_path / "a.yaml")])
    assert "git" not in loaded and "requests" not in loaded and "pydantic" in loaded


@pytest.mark.parametrize("command", [["list"], ["show", "s"], ["history", "s"], ["diff", "s", "latest~1", "latest"]])
def test_reading_commands_load_neither_gitpython_nor_the_writer_lock(tmp_path: Path, command: list[str]) -> None:
    """The store reads through cat-file pipes of its own, and readers never lock: neither import is paid for."""
    wiki = Wiki.init(tmp_path / "w")
    wiki.save(article("s"), "first")
    wiki.save(article("s", claims=["Changed claim. "]), "second", base=wiki.latest("s").id)  # type: ignore[union-attr]
    wiki.close()
    args = ["--wiki", str(tmp_path / "w"), *command]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert _loaded_after(args, watch=("git", "gitdb", "filelock")) == []


def test_importing_wikicore_is_lazy_but_complete() -> None:
    code = "import sys, wikicore; print('pydantic' in sys.modules); print(wikicore.Article.__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "Article"]


def test_every_command_shares_the_same_option_definitions() -> None:
    """One definition per option: the same help wherever -o, --format's kin, --author or --wayback-url appear."""
    helps: dict[str, set[str]] = {}
    for command in main.commands.values():
        for param in command.params:
            if isinstance(param, click.Option) and param.name in {"output", "author", "wayback_url", "timeout",
                                                                   "allow_private", "from_", "slug"}:
                helps.setdefault(param.name, set()).add((param.help or "").split("'-'")[0][:20])
    assert helps["author"] and all(len(v) == 1 for k, v in helps.items() if k != "output"), helps


# --- completion ----------------------------------------------------------------------------


@pytest.fixture
def wiki_with_two(tmp_path: Path, runner: CliRunner) -> Path:
    path = tmp_path / "wiki"
    assert runner.invoke(main, ["--wiki", str(path), "init"]).exit_code == 0
    assert runner.invoke(main, ["--wiki", str(path), "import", str(SEED), "--from", "text"]).exit_code == 0
    notes = tmp_path / "notes.yaml"
    notes.write_text(dumps(article("azerbaijan-notes", title="Notes on Azerbaijan")), encoding="utf-8")
    assert runner.invoke(main, ["--wiki", str(path), "import", str(notes)]).exit_code == 0
    return path


def _complete(runner: CliRunner, line: str, env: dict[str, str] | None = None) -> list[str]:
    words = line.split(" ")
    result = runner.invoke(
        main, [], prog_name="wikicore",
        env={"_WIKICORE_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1),
             **(env or {})},
    )
    return [line for line in result.output.splitlines() if line]


@pytest.mark.parametrize("command", ["history", "diff", "blame", "archive", "mv"])
def test_slug_arguments_complete_from_the_wiki(runner: CliRunner, wiki_with_two: Path, command: str) -> None:
    assert _complete(runner, f"wikicore --wiki {wiki_with_two} {command} azerbaijan-r") == [
        "plain,azerbaijan-russia-relations"
    ]
    assert sorted(_complete(runner, f"wikicore --wiki {wiki_with_two} {command} azer")) == [
        "plain,azerbaijan-notes", "plain,azerbaijan-russia-relations",
    ]


def test_completion_reads_wikicore_wiki(runner: CliRunner, wiki_with_two: Path) -> None:
    assert _complete(runner, "wikicore history azerbaijan-n", {"WIKICORE_WIKI": str(wiki_with_two)}) == [
        "plain,azerbaijan-notes"
    ]


def test_show_completes_slugs_and_files(runner: CliRunner, wiki_with_two: Path) -> None:
    lines = _complete(runner, f"wikicore --wiki {wiki_with_two} show azerbaijan-n")
    assert lines == ["plain,azerbaijan-notes", "file,azerbaijan-n"]


def test_completion_without_a_wiki_is_silent(runner: CliRunner, tmp_path: Path) -> None:
    assert _complete(runner, f"wikicore --wiki {tmp_path / 'none'} history a") == []


# --- decisions in the library ------------------------------------------------------------


def test_timeout_becomes_a_configuration_in_the_library() -> None:
    base = CheckConfig()
    config = base.with_timeout(0.5)
    assert config.deadline == 0.5 and config.connect_timeout == min(base.connect_timeout, 0.5)
    assert config.read_timeout == min(base.read_timeout, 0.5)
    long = base.with_timeout(10_000)
    assert long.connect_timeout == base.connect_timeout and long.deadline == 10_000  # never raised
    for bad in (math.nan, math.inf, 0.0, -1.0):
        with pytest.raises(InvalidInput, match="timeout"):
            base.with_timeout(bad)


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-3"])
def test_cli_refuses_a_timeout_that_is_not_a_positive_number(runner: CliRunner, value: str) -> None:
    result = runner.invoke(main, ["audit", str(SEED_ARTICLE), "--timeout", value])
    assert result.exit_code == 2 and "timeout" in result.stderr.lower()


def test_cache_location_is_the_librarys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Wiki.init(tmp_path / "w") as wiki:
        assert wiki.checks_path == wiki.state_dir / "checks.sqlite"
        assert audit_cache_path(wiki) == wiki.checks_path
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert audit_cache_path(None) == tmp_path / "xdg" / "wikicore" / "checks.sqlite"
