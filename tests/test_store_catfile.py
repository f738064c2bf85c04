"""The store's own ``cat-file`` pipes: answers never cross, a missing object is None, worktrees open."""

from __future__ import annotations

from pathlib import Path

import pytest

from wikicore.errors import NotFound
from wikicore.store import Wiki
from wikicore.store.catfile import CatFile

from .support.wiki_helpers import article, git


def test_a_name_with_a_line_break_is_not_sent(tmp_path: Path) -> None:
    """One name a line is the protocol: a second line would leave an answer behind for the next question."""
    wiki = Wiki.init(tmp_path / "w")
    wiki.save(article("s"), "first")
    tip = wiki.tip()
    assert tip is not None
    reader = CatFile(wiki.objects._git)
    try:
        assert reader.contents(f"{tip}\n{tip}") is None
        assert reader.header(f"{tip}\nHEAD") is None
        found = reader.contents(tip)
        assert found is not None and found[0] == tip and found[1] == "commit"
        assert reader.header(tip) == (tip, "commit")
        assert reader.contents("0" * 40) is None and reader.header("no-such-ref") is None
        assert reader.contents(tip) == found  # nothing was left in the pipe
    finally:
        reader.close()
    wiki.close()


def test_missing_files_are_not_found_and_reads_go_on(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "w")
    wiki.save(article("s"), "first")
    with pytest.raises(NotFound):
        wiki.load("nope")
    assert wiki.load("s").slug == "s"
    wiki.close()


def test_a_wiki_opens_from_a_directory_whose_git_is_a_file(tmp_path: Path) -> None:
    """``.git`` may be a file naming the repository (``git worktree``, ``--separate-git-dir``)."""
    wiki = Wiki.init(tmp_path / "w")
    wiki.save(article("s"), "first")
    wiki.close()
    moved = tmp_path / "elsewhere.git"
    (tmp_path / "w" / ".git").rename(moved)
    (tmp_path / "w" / ".git").write_text(f"gitdir: {moved}\n")
    with Wiki.open(tmp_path / "w") as again:
        assert again.git_dir == moved and again.load("s").slug == "s"
    assert git(tmp_path / "w", "rev-parse", "--git-dir").strip() == str(moved)


def test_a_directory_inside_another_repository_is_no_wiki(tmp_path: Path) -> None:
    """git must not look up the tree: a broken ``.git`` in a wiki's place is refused, not the parent used."""
    git(tmp_path, "init", "-q")
    (tmp_path / "inner" / ".git").mkdir(parents=True)
    (tmp_path / "inner" / ".wikicore").mkdir()
    with pytest.raises(NotFound):
        Wiki.open(tmp_path / "inner")
