"""`make demo` is half of the README's quick start: run it end to end and check what it shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def test_demo_runs_offline_and_shows_every_verdict(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "wikicore.demo"],
        cwd=ROOT,
        env={**os.environ, "WIKICORE_DEMO_DIR": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    shown = done.stdout
    assert "references 20: 4 with an ISBN, 0 with a url, 3 with an archive date" in shown
    assert shown.count("Import the seed article") >= 2  # the import command and the history line
    assert "+ cites ref-1 (69)" in shown  # the semantic diff of the second revision
    for verdict in ("1 live", "3 dead", "1 soft-404", "1 blocked"):
        assert verdict in shown
    assert "link-dead-archive-available" in shown and "isbn-invalid" in shown
    assert "archive_url: (none) -> " in shown  # the rescue commit, diffed
    assert (out / "audit.html").is_file() and (out / "diff.html").is_file()
