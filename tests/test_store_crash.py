"""kill -9 at every step of a save leaves the branch at the old or the new commit, fsck clean, saves working."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from wikicore.store import CRASH_STEPS, Wiki

from .support.wiki_helpers import article, fsck_clean, tip, with_claims

SAVE = """
import sys
from wikicore.store import Wiki
from tests.support.wiki_helpers import article, with_claims
wiki = Wiki.open(sys.argv[1])
wiki.save(with_claims(article(), "Edited. "), "edit", base=sys.argv[2])
"""
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("step", CRASH_STEPS)
def test_kill_at_each_step_leaves_old_or_new(tmp_path: Path, step: str) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    old = wiki.save(article(), "base")
    env = {**os.environ, "WIKICORE_CRASH_AT": step, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SAVE, str(wiki.path), old.id],
                          env=env, cwd=ROOT, capture_output=True, check=False, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()

    after = tip(wiki.path)
    if step == "after-update-ref":
        assert after != old.id
        assert wiki.load("foo") == with_claims(article(), "Edited. ")
    else:
        assert after == old.id
        assert wiki.load("foo") == article()
    fsck_clean(wiki.path)
    assert (wiki.state_dir / "saving").exists() or step == "after-hash-object"  # the crash left its marker

    # The next save works and clears the crash marker.
    latest = wiki.latest("foo")
    assert latest is not None
    rev = wiki.save(with_claims(wiki.load("foo"), "After the crash. "), "next", base=latest.id)
    assert tip(wiki.path) == rev.id
    assert not (wiki.state_dir / "saving").exists()
    fsck_clean(wiki.path)
    wiki.close()


def test_crash_hook_is_inert_without_the_variable(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    old = wiki.save(article(), "base")
    env = {k: v for k, v in os.environ.items() if k != "WIKICORE_CRASH_AT"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", SAVE, str(wiki.path), old.id],
                          env=env, cwd=ROOT, capture_output=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert tip(wiki.path) != old.id
