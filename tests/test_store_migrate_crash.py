"""kill -9 at every step of ``migrate``: the next open finds the layout file and the tree agreeing; saves work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from wikicore.store import LAYOUT_FLAT, LAYOUT_SHARDED, MIGRATE_CRASH_STEPS, Wiki, path_of

from .support.wiki_helpers import article, fsck_clean, git, with_claims

MIGRATE = """
import sys
from wikicore.store import Wiki
Wiki.open(sys.argv[1]).migrate()
"""
ROOT = Path(__file__).resolve().parent.parent
SLUGS = [f"a{n}" for n in range(12)]


def _flat_wiki(path: Path) -> Wiki:
    wiki = Wiki.init(path)
    (wiki.state_dir / "layout").unlink()
    assert wiki.layout == LAYOUT_FLAT
    for slug in SLUGS:
        wiki.save(article(slug, slug.upper()), slug)
    return wiki


def _paths(wiki: Wiki) -> set[str]:
    return {line for line in git(wiki.path, "ls-tree", "-r", "--name-only", "main").split() if line}


@pytest.mark.parametrize("step", [*MIGRATE_CRASH_STEPS, "before-update-ref"])
def test_kill_at_each_step_of_migrate_leaves_a_state_the_next_open_settles(tmp_path: Path, step: str) -> None:
    wiki = _flat_wiki(tmp_path / "wiki")
    before = git(wiki.path, "rev-parse", "main").strip()
    wiki.close()
    env = {**os.environ, "WIKICORE_CRASH_AT": step, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", MIGRATE, str(wiki.path)],
                          env=env, cwd=ROOT, capture_output=True, check=False, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()

    reopened = Wiki.open(wiki.path)
    moved = git(wiki.path, "rev-parse", "main").strip() != before
    flat = {f"articles/{slug}.yaml" for slug in SLUGS}
    sharded = {path_of(slug, LAYOUT_SHARDED) for slug in SLUGS}
    assert _paths(reopened) == (sharded if moved else flat)
    assert reopened.layout == (LAYOUT_SHARDED if moved else LAYOUT_FLAT)  # the file says what the tree is
    assert not (reopened.state_dir / "migrating").exists()
    assert reopened.check_index() == []

    # A save keeps its article where the layout says, and every article loads.
    latest = reopened.latest("a0")
    assert latest is not None
    reopened.save(with_claims(reopened.load("a0"), "After the crash. "), "edit", base=latest.id)
    assert path_of("a0", reopened.layout) in _paths(reopened)
    assert [reopened.load(slug).slug for slug in SLUGS] == SLUGS
    # Migrating again finishes the job.
    reopened.migrate()
    assert _paths(reopened) == sharded and reopened.layout == LAYOUT_SHARDED
    fsck_clean(reopened.path)
    reopened.close()
