"""`make demo` is half of the README's quick start: run it end to end and check what it shows.

It runs from an installed copy of the package (pip into a folder outside the checkout), in a
directory that is not the checkout: the demo's articles are package data, not test files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wikicore import demo

from .conftest import ROOT, SEED


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """wikicore installed (not editable, no dependencies: the venv has them) into a folder of its own."""
    base = tmp_path_factory.mktemp("installed")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "wikicore", source / "wikicore", ignore=shutil.ignore_patterns("__pycache__"))
    target = base / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return target


def test_package_data_is_the_checkouts_data() -> None:
    assert demo.SEED.read_bytes() == SEED.read_bytes()
    assert demo.LINK_ROT.read_bytes() == (ROOT / "articles" / "link-rot-demo.yaml").read_bytes()


def test_demo_runs_offline_from_an_installed_package_and_shows_every_verdict(installed: Path,
                                                                            tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "WIKICORE_DEMO_DIR"}
    env["PYTHONPATH"] = str(installed)
    where = subprocess.run([sys.executable, "-c", "import wikicore.demo as d; print(d.__file__, d.SEED)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(installed)) and str(ROOT) not in where.stdout

    done = subprocess.run(
        [sys.executable, "-m", "wikicore.demo"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = elsewhere / ".demo"  # the default: .demo in the current directory
    shown = done.stdout
    assert "references 20: 4 with an ISBN, 0 with a url, 3 with an archive date" in shown
    assert shown.count("Import the seed article") >= 2  # the import command and the history line
    assert "+ cites ref-1 (69)" in shown  # the semantic diff of the second revision
    # 2 live: the sample's paywalled news page is live (a reader can subscribe), beside the blog post.
    for verdict in ("2 live", "3 dead", "1 soft-404", "1 blocked"):
        assert verdict in shown
    # The quote results (each kind, in every format: tests/test_demo_quotes.py) are in the demo's output.
    assert "quotes 2 found, 1 changed, 1 missing, 2 unchecked" in shown
    assert "unchecked: live page: paywall or login page; no capture" in shown
    assert "link-dead-archive-available" in shown and "isbn-invalid" in shown
    assert "archive_url: (none) -> " in shown  # the rescue commit, diffed
    assert (out / "audit.html").is_file() and (out / "diff.html").is_file()
    # The HTML audit ran first, from a cold cache: none of its verdicts were reused.
    assert "(cached)" not in (out / "audit.html").read_text(encoding="utf-8")

    assert (out / ".wikicore-demo").is_file()  # the mark that lets the next run rebuild the folder

    # A folder the demo did not make is never deleted.
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me\n", encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "wikicore.demo"], cwd=elsewhere,
                             env={**env, "WIKICORE_DEMO_DIR": str(foreign)},
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0 and "was not made by the demo" in refused.stderr
    assert (foreign / "precious.txt").read_text(encoding="utf-8") == "keep me\n"
