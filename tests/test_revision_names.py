"""Revision names a shell leaves alone: `latest` and `latest~N` count an article's own revisions."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import InvalidRevision, NotFound
from wikicore.serialize import dumps
from wikicore.store import Wiki, parse_revision

from .conftest import ROOT
from .support.wiki_helpers import article, with_claims

README = (ROOT / "README.md").read_text(encoding="utf-8")
SLUG = "foo"


@pytest.fixture
def wiki_path(tmp_path: Path) -> Path:
    """A wiki whose article `foo` has three revisions, with a commit of another article in between."""
    path = tmp_path / "wiki"
    with Wiki.init(path) as wiki:
        first = wiki.save(article(), "One", base=None)
        wiki.save(article("bar"), "Other", base=None)
        second = wiki.save(with_claims(article(), "Two. "), "Two", base=first.id)
        wiki.save(with_claims(article(), "Two. ", "Three. "), "Three", base=second.id)
    return path


@pytest.mark.parametrize(("rev", "name"), [("latest", "~0"), ("latest~0", "~0"), ("latest~2", "~2"), ("~1", "~1")])
def test_latest_names_the_articles_own_revisions(rev: str, name: str) -> None:
    assert parse_revision(rev) == name


@pytest.mark.parametrize("rev", ["Latest", "latest~", "latest~-1", "latest^", "latest~1~1", "latest~x", "latest "])
def test_other_spellings_are_refused(rev: str) -> None:
    with pytest.raises(InvalidRevision, match="latest~N"):
        parse_revision(rev)


def test_latest_resolves_like_tilde(wiki_path: Path) -> None:
    with Wiki.open(wiki_path) as wiki:
        ids = [r.id for r in wiki.history(SLUG)]
        assert [wiki.resolve_for(SLUG, f"latest~{n}") for n in range(3)] == ids
        assert wiki.resolve_for(SLUG, "latest") == ids[0] == wiki.resolve_for(SLUG, "~0")
        with pytest.raises(NotFound, match="has 3 revisions: latest~3 is before its first"):
            wiki.resolve_for(SLUG, "latest~3")
        with pytest.raises(InvalidRevision, match="give it with a slug"):
            wiki.resolve("latest")


def _readme_commands() -> list[str]:
    """Every `wikicore ...` command of the README (inline or in a console block) that names `latest`."""
    found = re.findall(r"`((?:wikicore )?(?:show|diff|blame|history) [^`\n]*)`", README)
    found += re.findall(r"^\$ (wikicore [^\n#]*?)\s*(?:#.*)?$", README, flags=re.M)
    commands = []
    for command in found:
        if re.search(r"\blatest\b", command) and "REV" not in command:
            command = command if command.startswith("wikicore ") else f"wikicore {command}"
            commands.append(command.replace("SLUG", SLUG).replace("azerbaijan-russia-relations", SLUG))
    return sorted(set(commands))


def test_the_readme_uses_the_shell_safe_names() -> None:
    assert len(_readme_commands()) >= 3
    # An unquoted ~N in an example is expanded by the reader's shell.
    examples = re.findall(r"`(?:wikicore )?(?:show|diff|blame|history) [^`\n]*`", README)
    examples += re.findall(r"^\$ .*$", README, flags=re.M)
    assert [e for e in examples if re.search(r"(?<![\w'\"])~\d", e)] == []


@pytest.mark.parametrize("command", _readme_commands())
def test_readme_examples_run_in_a_real_shell(command: str, wiki_path: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "wikicore"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m wikicore "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
           "WIKICORE_WIKI": str(wiki_path), "NO_COLOR": "1"}
    env.pop("WIKICORE_ARTIFACTS", None)
    # pushd makes the directory stack non-empty: bash would turn an unquoted `~1` into a directory.
    script = f"pushd {shlex.quote(str(tmp_path))} >/dev/null && pushd / >/dev/null && cd {shlex.quote(str(tmp_path))}"
    done = subprocess.run(["bash", "-c", f"{script} && {command}"], capture_output=True, text=True, env=env,
                          check=False, timeout=120)
    assert done.returncode == 0, (command, done.stderr)
    assert "Traceback" not in done.stderr


def test_unquoted_tilde_is_what_the_shell_breaks() -> None:
    done = subprocess.run(["bash", "-c", "cd / && echo ~0 latest~1"], capture_output=True, text=True, check=True)
    assert done.stdout == "/ latest~1\n"


def test_cli_accepts_latest(wiki_path: Path) -> None:
    runner = CliRunner()
    with Wiki.open(wiki_path) as wiki:
        ids = [r.id for r in wiki.history(SLUG)]
    shown = runner.invoke(main, ["--wiki", str(wiki_path), "show", SLUG, "--rev", "latest~2"])
    assert shown.exit_code == 0 and f"revision: {ids[2]}\n" in shown.stdout
    diff = runner.invoke(main, ["--wiki", str(wiki_path), "diff", SLUG, "latest~2", "latest", "--format", "json"])
    assert diff.exit_code == 0, diff.output
    assert "Three." in diff.stdout and "Two." in diff.stdout
    blame = runner.invoke(main, ["--wiki", str(wiki_path), "blame", SLUG, "--rev", "latest~1"])
    assert blame.exit_code == 0 and "Three." not in blame.stdout
    bad = runner.invoke(main, ["--wiki", str(wiki_path), "show", SLUG, "--rev", "/home/ann"])
    assert bad.exit_code == 2 and "latest~N" in bad.stderr
    assert dumps(article()) in runner.invoke(main, ["--wiki", str(wiki_path), "show", SLUG,
                                                    "--rev", "latest~2"]).stdout.replace(f"revision: {ids[2]}\n", "")
