"""The README tells the truth: its Python example runs and prints what it says it prints."""

from __future__ import annotations

import contextlib
import io
import os
import re
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
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, f"README.md block {index}", "exec"), {"workdir": tmp_path})
    assert out.getvalue().splitlines() == expected


def test_every_command_is_in_the_readme() -> None:
    for name in main.commands:
        assert f"`{name}" in README or f"| `{name} " in README, f"README does not document `{name}`"


def test_readme_quick_start_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
