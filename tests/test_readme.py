"""The README tells the truth: its Python example runs and prints what it says it prints."""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from pathlib import Path

import pytest

from wikicore.cli import main

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_python_examples_print_what_they_claim(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = _python_blocks()[index]
    expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the example's mkdtemp() lands in tmp_path
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # As written: the block gets no names from us (it once needed `workdir` defined by the reader).
        exec(compile(block, f"README.md block {index}", "exec"), {})
    assert out.getvalue().splitlines() == expected


def test_every_command_is_in_the_readme() -> None:
    for name in main.commands:
        assert f"`{name}" in README or f"| `{name} " in README, f"README does not document `{name}`"


def test_readme_quick_start_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_every_exit_status_is_documented() -> None:
    from wikicore import cli

    section = README.split("### Exit statuses", 1)[1].split("###", 1)[0]
    codes = [cli.EXIT_OK, cli.EXIT_PROBLEMS, cli.EXIT_INPUT, cli.EXIT_CONFLICT, cli.EXIT_INTERNAL, cli.EXIT_NETWORK,
             cli.EXIT_BUSY,
             130]
    for code in codes:
        assert f"| **{code}** |" in section, f"exit status {code} is not in the README's table"


def test_completion_is_documented() -> None:
    assert "### Shell completion" in README
    for shell in ("bash_source", "zsh_source", "fish_source"):
        assert f"_WIKICORE_COMPLETE={shell} wikicore" in README
